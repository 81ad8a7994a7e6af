#include "threads.h"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <thread>
#include <vector>

namespace hastor {

void ThreadRegistry::Start(std::shared_ptr<Stoppable> owner, std::function<void()> body) {
  unsigned long id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = nextId_++;
    running_.emplace(id, std::move(owner));
  }
  std::shared_ptr<ThreadRegistry> self = shared_from_this();

  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);  // the new thread inherits this mask
  try {
    std::thread([self, id, body = std::move(body)]() {
      body();
      std::lock_guard<std::mutex> lock(self->mu_);
      self->running_.erase(id);
      self->cv_.notify_all();
    }).detach();
  } catch (...) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    std::lock_guard<std::mutex> lock(mu_);
    running_.erase(id);
    throw;
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void ThreadRegistry::StopAllAndWait() {
  std::vector<std::shared_ptr<Stoppable>> owners;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& entry : running_) owners.push_back(entry.second);
  }
  for (auto& owner : owners) owner->RequestStop();
  std::unique_lock<std::mutex> lock(mu_);
  // Bounded: a thread stuck in a slow kernel call must not hang exit forever.
  cv_.wait_for(lock, std::chrono::seconds(5), [this] { return running_.empty(); });
}

namespace {
struct AddonData {
  std::shared_ptr<ThreadRegistry> registry = std::make_shared<ThreadRegistry>();
};
}  // namespace

void InitRegistry(Napi::Env env) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  // Hooks run before the environment deletes its ThreadSafeFunctions.
  env.AddCleanupHook([data]() { data->registry->StopAllAndWait(); });
}

std::shared_ptr<ThreadRegistry> RegistryOf(Napi::Env env) {
  return env.GetInstanceData<AddonData>()->registry;
}

}  // namespace hastor
