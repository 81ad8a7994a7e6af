#include "wake-signal.h"

#include <signal.h>
#include <string.h>

#include <mutex>

namespace hastor {

namespace {
void NoopHandler(int) {}

int InstallOnce() {
  // Skip the low RT signals (other runtimes like them); take the first one
  // nobody handles yet.
  for (int sig = SIGRTMIN + 6; sig <= SIGRTMAX - 2; sig++) {
    struct sigaction current;
    if (sigaction(sig, nullptr, &current) != 0) continue;
    // sa_handler and sa_sigaction share storage: null means the default action.
    if (current.sa_handler != SIG_DFL) continue;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = NoopHandler;
    sigfillset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: the blocked call must return EINTR
    if (sigaction(sig, &action, nullptr) == 0) return sig;
  }
  return -1;
}
}  // namespace

int WakeSignal() {
  static std::once_flag once;
  static int sig = -1;
  std::call_once(once, [] { sig = InstallOnce(); });
  return sig;
}

}  // namespace hastor
