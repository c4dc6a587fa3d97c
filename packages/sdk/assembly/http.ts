// HTTP through the node (capability `http`, SPEC §13). The node checks the
// allow-list and the lease, adds `Idempotency-Key: <agentId>:<tick>:<n>`, and
// records the response so a replay never touches the network.
import { http_request } from "./host";

export const HTTP_ERR_TRANSPORT: i32 = -1;
export const HTTP_ERR_TOO_LONG: i32 = -2;
export const HTTP_ERR_HOST_BLOCKED: i32 = -3;
export const HTTP_ERR_TIMEOUT: i32 = -4;
export const HTTP_ERR_TOO_LARGE: i32 = -5;
export const HTTP_ERR_NOT_OWNER: i32 = -6;

/** First response buffer, as the reference SDK uses. */
export const DEFAULT_RESPONSE_CAPACITY: i32 = 8192;
/** Largest buffer the size-hint retry allocates (reference: 4 MiB). */
export const MAX_RETRY_BYTES: u32 = 4 * 1024 * 1024;

export class HttpResponse {
  constructor(
    /** HTTP status (any status, 404 included, is a completed call), or 0 when `error` is set. */
    public status: i32,
    /** Response body; empty on error. */
    public body: Uint8Array,
    /** 0, or a negative HTTP_ERR_* code from the host. */
    public error: i32
  ) {}

  /** The call completed (whatever the status). */
  get completed(): bool {
    return this.error == 0;
  }

  /** Completed with a 2xx status. */
  get ok(): bool {
    return this.error == 0 && this.status >= 200 && this.status < 300;
  }

  /** The body as UTF-8 text. */
  text(): string {
    return String.UTF8.decodeUnsafe(this.body.dataStart, <usize>this.body.length);
  }
}

/** One `Name: Value` header line for the `headers` argument. */
export function header(name: string, value: string): string {
  return name + ": " + value + "\n";
}

function isRetrySafe(method: string): bool {
  const m = method.toUpperCase();
  return m == "" || m == "GET" || m == "HEAD";
}

function call(method: Uint8Array, url: Uint8Array, headers: Uint8Array, body: Uint8Array, resp: Uint8Array): i32 {
  return http_request(
    method.dataStart, method.length,
    url.dataStart, url.length,
    headers.dataStart, headers.length,
    body.dataStart, body.length,
    resp.dataStart, resp.length
  );
}

function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

/**
 * Performs a request. `headers` is `Name: Value` lines separated by `\n`
 * (build them with `header()`); `method` "" means GET.
 *
 * When the body does not fit `capacity` the host answers −5 with the size it
 * needs; the request is then sent again with a buffer that fits — but only for
 * GET and HEAD. A POST (or any other method) is never sent twice by the SDK:
 * it returns the −5 instead, so an effect is not repeated behind the author's
 * back (pass a larger `capacity` for big responses).
 */
export function httpRequest(
  method: string,
  url: string,
  headers: string = "",
  body: Uint8Array | null = null,
  capacity: i32 = DEFAULT_RESPONSE_CAPACITY
): HttpResponse {
  const m = utf8(method);
  const u = utf8(url);
  const h = utf8(headers);
  const b = body != null ? body : new Uint8Array(0);
  let resp = new Uint8Array(max(capacity, 4));
  let rc = call(m, u, h, b, resp);
  if (rc == HTTP_ERR_TOO_LARGE && isRetrySafe(method)) {
    const needed = load<u32>(resp.dataStart);
    if (needed > 0 && needed <= MAX_RETRY_BYTES) {
      resp = new Uint8Array(<i32>needed + 4);
      rc = call(m, u, h, b, resp);
    }
  }
  if (rc < 0) return new HttpResponse(0, new Uint8Array(0), rc);
  const n = load<u32>(resp.dataStart);
  if (<u64>n + 4 > <u64>resp.length) return new HttpResponse(0, new Uint8Array(0), HTTP_ERR_TRANSPORT);
  return new HttpResponse(rc, resp.slice(4, 4 + <i32>n), 0);
}

export function httpGet(url: string, headers: string = ""): HttpResponse {
  return httpRequest("GET", url, headers);
}

/** POST with a Content-Type header; never retried by the SDK. */
export function httpPost(url: string, contentType: string, body: Uint8Array, headers: string = ""): HttpResponse {
  return httpRequest("POST", url, header("Content-Type", contentType) + headers, body);
}
