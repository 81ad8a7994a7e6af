#include "file-lock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "sys-error.h"
#include "threads.h"
#include "wake-signal.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

namespace hastor {

namespace {

// Someone keeps replacing the file: give up rather than spin.
constexpr int kMaxAttempts = 1000;

struct LockResult {
  int fd = -1;
  unsigned int devMajor = 0;
  unsigned int devMinor = 0;
  unsigned long long ino = 0;
  int attempts = 0;
};

int OpenLockFile(const std::string& path) {
  int fd;
  do {
    // O_NOFOLLOW: a symlink planted at the path must not make root create or
    // lock a file elsewhere (it fails with ELOOP instead).
    fd = open(path.c_str(), O_CREAT | O_APPEND | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0777);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

void SetInode(SysError& err, int fd) {
  struct stat st;
  if (fstat(fd, &st) == 0) {
    err.hasInode = true;
    err.devMajor = major(st.st_dev);
    err.devMinor = minor(st.st_dev);
    err.ino = st.st_ino;
  }
}

// `interrupted` is asked after every EINTR (and between attempts); it returns
// the errno to fail with, or 0 to keep waiting.
SysError Acquire(const std::string& path, bool exclusive, bool nonblock,
                 const std::function<int()>& interrupted, LockResult* out) {
  const int op = (exclusive ? LOCK_EX : LOCK_SH) | (nonblock ? LOCK_NB : 0);
  for (int attempt = 1;; attempt++) {
    int fd = OpenLockFile(path);
    if (fd < 0) return SysError::Of(errno, "open", path);

    while (flock(fd, op) != 0) {
      int e = errno;
      if (e == EINTR) {
        int why = interrupted();
        if (why == 0) continue;
        SysError err = SysError::Of(why, "flock", path);
        SetInode(err, fd);
        close(fd);
        return err;
      }
      SysError err = SysError::Of(e, "flock", path);
      SetInode(err, fd);
      close(fd);
      return err;
    }

    struct stat onPath, onFd;
    if (lstat(path.c_str(), &onPath) == 0 && fstat(fd, &onFd) == 0 &&
        onPath.st_ino == onFd.st_ino && onPath.st_dev == onFd.st_dev) {
      out->fd = fd;
      out->devMajor = major(onFd.st_dev);
      out->devMinor = minor(onFd.st_dev);
      out->ino = onFd.st_ino;
      out->attempts = attempt;
      return SysError();
    }
    // We locked a file that was unlinked or replaced meanwhile: that lock
    // protects nothing. Drop it and lock whatever is at the path now.
    close(fd);
    if (attempt >= kMaxAttempts) return SysError::Of(ESTALE, "stat", path);
    int why = interrupted();
    if (why != 0) return SysError::Of(why, "flock", path);
  }
}

Napi::Object ResultToJs(Napi::Env env, const LockResult& r) {
  Napi::Object obj = Napi::Object::New(env);
  obj.Set("fd", Napi::Number::New(env, r.fd));
  obj.Set("devMajor", Napi::Number::New(env, r.devMajor));
  obj.Set("devMinor", Napi::Number::New(env, r.devMinor));
  obj.Set("ino", Napi::BigInt::New(env, static_cast<uint64_t>(r.ino)));
  obj.Set("attempts", Napi::Number::New(env, r.attempts));
  return obj;
}

void CheckArgs(const Napi::CallbackInfo& info, size_t count) {
  if (info.Length() < count || !info[0].IsString() || !info[1].IsBoolean())
    throw Napi::TypeError::New(info.Env(), "expected (path: string, exclusive: boolean, ...)");
}

// tryLockFile(path, exclusive) -> handle; throws (errno EWOULDBLOCK on contention).
Napi::Value TryLockFile(const Napi::CallbackInfo& info) {
  CheckArgs(info, 2);
  std::string path = info[0].As<Napi::String>().Utf8Value();
  bool exclusive = info[1].As<Napi::Boolean>().Value();
  LockResult result;
  SysError err = Acquire(path, exclusive, true, [] { return 0; }, &result);
  if (!err.ok()) throw ToJsError(info.Env(), err);
  return ResultToJs(info.Env(), result);
}

// One blocking wait on its own thread. A per-thread POSIX timer sends the
// wake signal at the deadline and then every 20 ms, so a signal that lands
// just before flock() is entered cannot leave the thread blocked.
class LockWait : public Stoppable {
 public:
  LockWait(std::string path, bool exclusive, long long timeoutMs)
      : path_(std::move(path)), exclusive_(exclusive), timeoutMs_(timeoutMs) {}

  void RequestStop() override {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    if (hasTimer_) Arm(1);
  }

  SysError Run(LockResult* out) {
    const int sig = WakeSignal();
    if (sig < 0) return RunPolling(out);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      struct sigevent sev = {};
      sev.sigev_notify = SIGEV_THREAD_ID;
      sev.sigev_signo = sig;
      sev.sigev_notify_thread_id = gettid();
      if (timer_create(CLOCK_MONOTONIC, &sev, &timer_) != 0)
        return SysError::Of(errno, "timer_create", path_);
      hasTimer_ = true;
      if (stop_) Arm(1);
      else if (timeoutMs_ >= 0) Arm(timeoutMs_ * 1000000LL + 1);
    }
    auto interrupted = [&]() -> int {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return ECANCELED;
      if (timeoutMs_ >= 0 && std::chrono::steady_clock::now() >= deadline) return ETIMEDOUT;
      return 0;
    };
    SysError err = Acquire(path_, exclusive_, false, interrupted, out);
    {
      std::lock_guard<std::mutex> lock(mu_);
      timer_delete(timer_);
      hasTimer_ = false;
    }
    // A last signal may be pending: it is harmless (no-op handler) once unblocked
    // here, and the thread ends right after.
    return err;
  }

 private:
  // Fallback when no real-time signal is free: non-blocking tries every 10 ms.
  SysError RunPolling(LockResult* out) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs_);
    for (;;) {
      SysError err = Acquire(path_, exclusive_, true, [] { return 0; }, out);
      if (err.ok() || err.err != EWOULDBLOCK) return err;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) err.err = ECANCELED;
        else if (timeoutMs_ >= 0 && std::chrono::steady_clock::now() >= deadline) err.err = ETIMEDOUT;
      }
      if (err.err != EWOULDBLOCK) return err;
      struct timespec ts = {0, 10 * 1000 * 1000};
      nanosleep(&ts, nullptr);
    }
  }

  // Called with mu_ held.
  void Arm(long long firstNs) {
    struct itimerspec spec = {};
    spec.it_value.tv_sec = firstNs / 1000000000LL;
    spec.it_value.tv_nsec = firstNs % 1000000000LL;
    spec.it_interval.tv_nsec = 20 * 1000 * 1000;
    timer_settime(timer_, 0, &spec, nullptr);
  }

  std::string path_;
  bool exclusive_;
  long long timeoutMs_;
  std::mutex mu_;
  bool stop_ = false;
  bool hasTimer_ = false;
  timer_t timer_{};
};

struct LockOutcome {
  explicit LockOutcome(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise::Deferred deferred;
  SysError error;
  LockResult result;
};

void SettleLock(Napi::Env env, Napi::Function, std::nullptr_t*, LockOutcome* outcome) {
  if (env != nullptr) {
    if (outcome->error.ok()) {
      outcome->deferred.Resolve(ResultToJs(env, outcome->result));
    } else {
      outcome->deferred.Reject(ToJsError(env, outcome->error).Value());
    }
  } else if (outcome->error.ok()) {
    close(outcome->result.fd);  // environment gone: nobody will release it
  }
  delete outcome;
}

using LockTsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, LockOutcome, SettleLock>;

// lockFile(path, exclusive, timeoutMs) -> Promise<handle>; timeoutMs < 0 waits forever.
Napi::Value LockFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgs(info, 3);
  if (!info[2].IsNumber()) throw Napi::TypeError::New(env, "timeoutMs must be a number");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  bool exclusive = info[1].As<Napi::Boolean>().Value();
  long long timeoutMs = info[2].As<Napi::Number>().Int64Value();

  auto* outcome = new LockOutcome(env);
  Napi::Promise promise = outcome->deferred.Promise();
  // The pending promise keeps the process alive, like a timer would.
  LockTsfn tsfn = LockTsfn::New(env, "hastor.lockFile", 0, 1);
  auto wait = std::make_shared<LockWait>(path, exclusive, timeoutMs);
  try {
    RegistryOf(env)->Start(wait, [wait, outcome, tsfn]() mutable {
      outcome->error = wait->Run(&outcome->result);
      if (tsfn.BlockingCall(outcome) != napi_ok) {
        if (outcome->error.ok()) close(outcome->result.fd);
        delete outcome;
      }
      tsfn.Release();
    });
  } catch (const std::system_error& e) {
    tsfn.Release();
    delete outcome;
    throw ToJsError(env, SysError::Of(e.code().value(), "pthread_create", path));
  }
  return promise;
}

// releaseFileLock(fd, path) -> true when it removed the file. LVM's release:
// unlock, then if an exclusive lock can be had at once and the path still
// names this inode, nobody else uses the file: unlink it, then close.
Napi::Value ReleaseFileLock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsString())
    throw Napi::TypeError::New(env, "expected (fd: number, path: string)");
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string path = info[1].As<Napi::String>().Utf8Value();
  bool unlinked = false;
  flock(fd, LOCK_UN | LOCK_NB);
  struct stat onPath, onFd;
  if (flock(fd, LOCK_EX | LOCK_NB) == 0 && lstat(path.c_str(), &onPath) == 0 && fstat(fd, &onFd) == 0 &&
      onPath.st_ino == onFd.st_ino && onPath.st_dev == onFd.st_dev) {
    unlinked = unlink(path.c_str()) == 0;
  }
  // Linux always frees the descriptor, even when close reports an error.
  close(fd);
  return Napi::Boolean::New(env, unlinked);
}

}  // namespace

void InitFileLock(Napi::Env env, Napi::Object exports) {
  WakeSignal();  // install the handler before any thread could be signalled
  exports.Set("tryLockFile", Napi::Function::New(env, TryLockFile, "tryLockFile"));
  exports.Set("lockFile", Napi::Function::New(env, LockFile, "lockFile"));
  exports.Set("releaseFileLock", Napi::Function::New(env, ReleaseFileLock, "releaseFileLock"));
}

}  // namespace hastor
