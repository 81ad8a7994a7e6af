// Dedicated threads for blocking waits (never the libuv pool), tracked per
// Node environment so teardown can stop them before their
// ThreadSafeFunctions are deleted.
#pragma once

#include <napi.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace hastor {

// Something a thread is waiting on that can be told to give up.
class Stoppable {
 public:
  virtual ~Stoppable() = default;
  virtual void RequestStop() = 0;
};

class ThreadRegistry : public std::enable_shared_from_this<ThreadRegistry> {
 public:
  // Starts `body` on a new detached thread with every signal blocked (so
  // process signals keep going to Node's own threads). `owner` is asked to
  // stop at environment teardown; the thread is counted until `body` returns.
  void Start(std::shared_ptr<Stoppable> owner, std::function<void()> body);

  // Environment teardown: ask every owner to stop, wait (bounded) for the threads.
  void StopAllAndWait();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  unsigned long nextId_ = 0;
  std::unordered_map<unsigned long, std::shared_ptr<Stoppable>> running_;
};

// The registry of the environment `env` (created by the module init).
std::shared_ptr<ThreadRegistry> RegistryOf(Napi::Env env);
void InitRegistry(Napi::Env env);

}  // namespace hastor
