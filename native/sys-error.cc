#include "sys-error.h"

#include <string.h>

namespace hastor {

std::string ErrnoName(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char* name = strerrorname_np(err);
  if (name != nullptr) return name;
#endif
  return "E" + std::to_string(err);
}

Napi::Error ToJsError(Napi::Env env, const SysError& e) {
  char buf[256];
  // GNU strerror_r returns the message pointer (may not use buf).
  const char* text = strerror_r(e.err, buf, sizeof buf);
  std::string message = e.syscall + ": " + text + " (" + ErrnoName(e.err) + ")";
  if (!e.path.empty()) message += ", path " + e.path;
  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object obj = error.Value();
  obj.Set("errno", Napi::Number::New(env, e.err));
  obj.Set("code", Napi::String::New(env, ErrnoName(e.err)));
  obj.Set("syscall", Napi::String::New(env, e.syscall));
  if (!e.path.empty()) obj.Set("path", Napi::String::New(env, e.path));
  if (e.hasInode) {
    obj.Set("devMajor", Napi::Number::New(env, e.devMajor));
    obj.Set("devMinor", Napi::Number::New(env, e.devMinor));
    obj.Set("ino", Napi::BigInt::New(env, static_cast<uint64_t>(e.ino)));
  }
  return error;
}

}  // namespace hastor
