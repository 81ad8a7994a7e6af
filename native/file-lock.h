// LVM-compatible flock(2) locks (same sequence as lvm2's lib/misc/lvm-flock.c):
// open O_CREAT|O_APPEND|O_RDWR mode 0777 (umask applies), flock, then check
// the locked inode still is the one at the path, else close and retry.
#pragma once

#include <napi.h>

namespace hastor {

void InitFileLock(Napi::Env env, Napi::Object exports);

}  // namespace hastor
