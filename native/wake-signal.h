// A real-time signal with a no-op handler installed without SA_RESTART: sent
// to one of our threads it makes a blocking flock() return EINTR. flock has
// no timeout of its own (util-linux's flock -w uses a timer signal too).
#pragma once

namespace hastor {

// Installs the handler once; returns the signal number, or -1 if none is free.
int WakeSignal();

}  // namespace hastor
