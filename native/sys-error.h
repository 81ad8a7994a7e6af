// A failed system call as plain data, so worker threads can carry it to the JS thread.
#pragma once

#include <napi.h>

#include <string>

namespace hastor {

struct SysError {
  int err = 0;             // errno value, 0 = no error
  std::string syscall;     // e.g. "flock", "recvmsg"
  std::string path;        // file involved, if any
  bool hasInode = false;   // set for lock contention: which file was contended
  unsigned int devMajor = 0;
  unsigned int devMinor = 0;
  unsigned long long ino = 0;

  bool ok() const { return err == 0; }
  static SysError Of(int err, const char* syscall, const std::string& path = std::string()) {
    SysError e;
    e.err = err;
    e.syscall = syscall;
    e.path = path;
    return e;
  }
};

// "ENOENT" etc.; falls back to "E<n>" for numbers glibc cannot name.
std::string ErrnoName(int err);

// An Error with .errno, .code, .syscall (and .path, .devMajor/.devMinor/.ino when known).
Napi::Error ToJsError(Napi::Env env, const SysError& e);

}  // namespace hastor
