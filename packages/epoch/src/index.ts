export { Epoch, U64_MAX } from './epoch.js'
