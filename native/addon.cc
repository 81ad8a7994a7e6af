// hastor's native addon: moves bytes (netlink) and takes locks (flock). It
// knows nothing of DRBD or LVM; the TypeScript side holds all policy.
#include <napi.h>

#include "file-lock.h"
#include "netlink-socket.h"
#include "threads.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  hastor::InitRegistry(env);
  hastor::InitNetlinkSocket(env, exports);
  hastor::InitFileLock(env, exports);
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

}  // namespace

NODE_API_MODULE(hastor_native, Init)
