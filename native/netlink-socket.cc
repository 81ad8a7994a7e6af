#include "netlink-socket.h"

#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sys-error.h"
#include "threads.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

namespace hastor {

namespace {

using Bytes = std::vector<uint8_t>;

// Reads one datagram without waiting. Returns 1 with `out` filled, 0 when
// nothing is queued, -1 with errno set (ENOBUFS: the kernel dropped messages;
// EMSGSIZE: a datagram did not fit).
// One syscall per datagram: the kernel sizes dump datagrams to at most 32 KiB
// and `scratch` is 64 KiB, so no peek is needed first (syscalls are what a
// status read costs, and they are slow under virtualisation). MSG_TRUNC makes
// recvfrom return the real length, so an oversized datagram is reported, never
// silently cut.
int ReceiveOne(int fd, Bytes& scratch, Bytes* out) {
  for (;;) {
    struct sockaddr_nl from;
    socklen_t fromLen = sizeof from;
    ssize_t got = recvfrom(fd, scratch.data(), scratch.size(), MSG_DONTWAIT | MSG_TRUNC,
                           reinterpret_cast<struct sockaddr*>(&from), &fromLen);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      return -1;
    }
    // Only the kernel (port 0) may speak to us; any local process could
    // otherwise forge replies by sending to our port id.
    if (fromLen >= sizeof from && from.nl_pid != 0) continue;
    if (static_cast<size_t>(got) > scratch.size()) {
      scratch.resize(static_cast<size_t>(got));  // the next one will fit
      errno = EMSGSIZE;
      return -1;
    }
    out->assign(scratch.begin(), scratch.begin() + got);
    return 1;
  }
}

void Wake(int wakeFd) {
  uint64_t one = 1;
  ssize_t ignored = write(wakeFd, &one, sizeof one);
  (void)ignored;
}

void DrainWake(int wakeFd) {
  uint64_t value;
  ssize_t ignored = read(wakeFd, &value, sizeof value);
  (void)ignored;
}

// Opens and binds a netlink socket; returns the fd or -1 with `err` set.
int OpenNetlink(int protocol, uint32_t* portId, SysError* err) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (fd < 0) {
    *err = SysError::Of(errno, "socket");
    return -1;
  }
  struct sockaddr_nl addr;
  memset(&addr, 0, sizeof addr);
  addr.nl_family = AF_NETLINK;  // nl_pid 0: the kernel picks our port id
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) {
    *err = SysError::Of(errno, "bind");
    close(fd);
    return -1;
  }
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&addr), &len) != 0) {
    *err = SysError::Of(errno, "getsockname");
    close(fd);
    return -1;
  }
  *portId = addr.nl_pid;
  return fd;
}

void SetReceiveBuffer(int fd, int bytes) {
  if (bytes <= 0) return;
  // FORCE ignores rmem_max but needs CAP_NET_ADMIN; fall back quietly.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

// ---------------------------------------------------------------- requests

class RequestChannel;

struct RequestJob {
  std::shared_ptr<RequestChannel> channel;
  Napi::Promise::Deferred deferred;
  bool hasPayload = false;
  Bytes payload;
  long long timeoutMs = -1;
  SysError error;
  std::vector<Bytes> datagrams;
  explicit RequestJob(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

void SettleRequest(Napi::Env env, Napi::Function, std::nullptr_t*, RequestJob* job);
using RequestTsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, RequestJob, SettleRequest>;

class RequestChannel : public Stoppable, public std::enable_shared_from_this<RequestChannel> {
 public:
  int fd = -1;
  int wakeFd = -1;
  uint32_t portId = 0;
  RequestTsfn tsfn;
  // JS thread only: how many promises are pending, and whether close() ran.
  int pendingJs = 0;
  bool closedJs = false;

  void RequestStop() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    Wake(wakeFd);
  }

  void Submit(RequestJob* job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(job);
    }
    cv_.notify_all();
  }

  void Run() {
    Bytes scratch(64 * 1024);
    for (;;) {
      RequestJob* job = nullptr;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
        if (!jobs_.empty()) {
          job = jobs_.front();
          jobs_.pop_front();
        }
        if (stop_ && job == nullptr) break;
      }
      if (Stopped()) job->error = SysError::Of(ECANCELED, "sendmsg");
      else Serve(job, scratch);
      Deliver(job);
    }
    close(fd);
    close(wakeFd);
    tsfn.Release();
  }

 private:
  bool Stopped() {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
  }

  void Deliver(RequestJob* job) {
    if (tsfn.NonBlockingCall(job) != napi_ok) delete job;  // environment is going away
  }

  void Serve(RequestJob* job, Bytes& scratch) {
    if (job->hasPayload) {
      struct sockaddr_nl kernel;
      memset(&kernel, 0, sizeof kernel);
      kernel.nl_family = AF_NETLINK;
      ssize_t sent;
      do {
        // The kernel runs the request handler inside this call: it may block
        // (DRBD state changes do), which is why we are on our own thread.
        sent = sendto(fd, job->payload.data(), job->payload.size(), 0,
                      reinterpret_cast<struct sockaddr*>(&kernel), sizeof kernel);
      } while (sent < 0 && errno == EINTR);
      if (sent < 0) {
        job->error = SysError::Of(errno, "sendmsg");
        return;
      }
    }
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
      Bytes datagram;
      int got = ReceiveOne(fd, scratch, &datagram);
      if (got < 0) {
        job->error = SysError::Of(errno, "recvmsg");
        return;
      }
      if (got > 0) {
        job->datagrams.push_back(std::move(datagram));
        continue;  // take everything already queued (a dump refills on each read)
      }
      if (!job->datagrams.empty()) return;
      int waitMs = -1;
      if (job->timeoutMs >= 0) {
        auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - start)
                           .count();
        if (elapsed >= job->timeoutMs) return;  // timeout: no datagrams
        waitMs = static_cast<int>(std::min<long long>(job->timeoutMs - elapsed, 1 << 30));
      }
      struct pollfd fds[2] = {{fd, POLLIN, 0}, {wakeFd, POLLIN, 0}};
      int ready = poll(fds, 2, waitMs);
      if (ready < 0 && errno != EINTR) {
        job->error = SysError::Of(errno, "poll");
        return;
      }
      if (ready > 0 && (fds[1].revents & POLLIN)) {
        DrainWake(wakeFd);
        if (Stopped()) {
          job->error = SysError::Of(ECANCELED, "recvmsg");
          return;
        }
      }
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<RequestJob*> jobs_;
  bool stop_ = false;
};

void SettleRequest(Napi::Env env, Napi::Function, std::nullptr_t*, RequestJob* job) {
  if (env != nullptr) {
    RequestChannel& channel = *job->channel;
    if (job->error.ok()) {
      Napi::Array list = Napi::Array::New(env, job->datagrams.size());
      for (size_t i = 0; i < job->datagrams.size(); i++) {
        const Bytes& d = job->datagrams[i];
        list.Set(static_cast<uint32_t>(i), Napi::Buffer<uint8_t>::Copy(env, d.data(), d.size()));
      }
      job->deferred.Resolve(list);
    } else {
      job->deferred.Reject(ToJsError(env, job->error).Value());
    }
    // An idle socket must not keep the process alive; a pending request does.
    if (--channel.pendingJs == 0 && !channel.closedJs) channel.tsfn.Unref(env);
  }
  delete job;
}

// ------------------------------------------------------------------ events

class EventChannel;

struct EventItem {
  std::shared_ptr<EventChannel> channel;
  enum Kind { kDatagram, kOverflow, kError } kind = kDatagram;
  Bytes bytes;
  SysError error;
};

void DeliverEvent(Napi::Env env, Napi::Function callback, std::nullptr_t*, EventItem* item);
void EventTsfnFinalized(Napi::Env env, std::shared_ptr<EventChannel>* holder, std::nullptr_t*);
using EventTsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, EventItem, DeliverEvent>;

class EventChannel : public Stoppable, public std::enable_shared_from_this<EventChannel> {
 public:
  EventChannel(size_t maxPending) : maxPending_(maxPending == 0 ? 1 : maxPending) {}

  int wakeFd = -1;
  uint32_t portId = 0;
  EventTsfn tsfn;
  bool tsfnAlive = true;  // JS thread only: false once the TSFN is finalized

  void RequestStop() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    Wake(wakeFd);
  }

  void SetFd(int fd) { fd_ = fd; }

  // JS thread: group membership, under the lock so the thread cannot close
  // the descriptor (and let its number be reused) in between.
  SysError Membership(int option, unsigned int group) {
    std::lock_guard<std::mutex> lock(mu_);
    if (fd_ < 0) return SysError::Of(EBADF, "setsockopt");
    if (setsockopt(fd_, SOL_NETLINK, option, &group, sizeof group) != 0)
      return SysError::Of(errno, "setsockopt");
    return SysError();
  }

  // JS thread, after a datagram was handed to the callback.
  void Consumed() {
    bool wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      wake = pending_-- == maxPending_;
    }
    if (wake) cv_.notify_all();
  }

  void Run() {
    Bytes scratch(64 * 1024);
    for (;;) {
      {
        // Back-pressure: while JS has maxPending datagrams unread we stop
        // reading; the kernel then drops and reports ENOBUFS, which becomes
        // an overflow event so the caller resyncs.
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || pending_ < maxPending_; });
        if (stop_) break;
      }
      struct pollfd fds[2] = {{fd_, POLLIN, 0}, {wakeFd, POLLIN, 0}};
      int ready = poll(fds, 2, -1);
      if (ready < 0) {
        if (errno == EINTR) continue;
        Report(EventItem::kError, SysError::Of(errno, "poll"));
        break;
      }
      if (fds[1].revents & POLLIN) DrainWake(wakeFd);
      if (!(fds[0].revents & (POLLIN | POLLERR))) continue;
      auto* item = new EventItem();
      int got = ReceiveOne(fd_, scratch, &item->bytes);
      if (got == 0) {
        delete item;
        continue;
      }
      if (got < 0) {
        int e = errno;
        delete item;
        if (e == ENOBUFS) {
          Report(EventItem::kOverflow, SysError());
          continue;
        }
        Report(EventItem::kError, SysError::Of(e, "recvmsg"));
        break;
      }
      item->channel = shared_from_this();
      {
        std::lock_guard<std::mutex> lock(mu_);
        pending_++;
      }
      if (tsfn.NonBlockingCall(item) != napi_ok) {
        delete item;
        break;  // environment teardown
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      close(fd_);
      fd_ = -1;
    }
    close(wakeFd);
    tsfn.Release();
  }

 private:
  void Report(EventItem::Kind kind, const SysError& error) {
    auto* item = new EventItem();
    item->kind = kind;
    item->error = error;
    if (tsfn.NonBlockingCall(item) != napi_ok) delete item;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  int fd_ = -1;
  bool stop_ = false;
  size_t pending_ = 0;
  size_t maxPending_;
};

void DeliverEvent(Napi::Env env, Napi::Function callback, std::nullptr_t*, EventItem* item) {
  std::unique_ptr<EventItem> owned(item);
  if (env == nullptr) return;
  Napi::Value data = env.Null();
  Napi::Value errnoValue = Napi::Number::New(env, 0);
  Napi::Value syscall = env.Null();
  const char* kind = "datagram";
  if (item->kind == EventItem::kDatagram) {
    data = Napi::Buffer<uint8_t>::Copy(env, item->bytes.data(), item->bytes.size());
    item->channel->Consumed();
  } else if (item->kind == EventItem::kOverflow) {
    kind = "overflow";
    errnoValue = Napi::Number::New(env, ENOBUFS);
  } else {
    kind = "error";
    errnoValue = Napi::Number::New(env, item->error.err);
    syscall = Napi::String::New(env, item->error.syscall);
  }
  try {
    callback.Call({Napi::String::New(env, kind), data, errnoValue, syscall});
  } catch (const Napi::Error& e) {
    // Same as a throwing 'data' listener on a stream: an uncaught exception.
    napi_fatal_exception(env, e.Value());
  }
}

void EventTsfnFinalized(Napi::Env, std::shared_ptr<EventChannel>* holder, std::nullptr_t*) {
  (*holder)->tsfnAlive = false;
  delete holder;
}

// ------------------------------------------------------------- the JS class

class NetlinkSocket : public Napi::ObjectWrap<NetlinkSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NetlinkSocket",
                       {
                           InstanceMethod<&NetlinkSocket::Request>("request"),
                           InstanceMethod<&NetlinkSocket::JoinGroup>("joinGroup"),
                           InstanceMethod<&NetlinkSocket::LeaveGroup>("leaveGroup"),
                           InstanceMethod<&NetlinkSocket::Ref>("ref"),
                           InstanceMethod<&NetlinkSocket::Unref>("unref"),
                           InstanceMethod<&NetlinkSocket::Close>("close"),
                           InstanceAccessor<&NetlinkSocket::PortId>("portId"),
                           InstanceAccessor<&NetlinkSocket::EventPortId>("eventPortId"),
                           InstanceAccessor<&NetlinkSocket::Closed>("closed"),
                       });
  }

  // new NetlinkSocket(protocol, onEvent, eventBufferBytes, maxPendingEvents)
  explicit NetlinkSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NetlinkSocket>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsFunction() || !info[2].IsNumber() ||
        !info[3].IsNumber())
      throw Napi::TypeError::New(env, "expected (protocol, onEvent, eventBufferBytes, maxPendingEvents)");
    protocol_ = info[0].As<Napi::Number>().Int32Value();
    // Kept as a property of this object, not a persistent reference: the
    // callback usually closes over the JS wrapper that holds us, and a strong
    // native reference would make that cycle uncollectable.
    info.This().As<Napi::Object>().DefineProperty(
        Napi::PropertyDescriptor::Value("onEvent", info[1], napi_default));
    eventBufferBytes_ = info[2].As<Napi::Number>().Int32Value();
    maxPendingEvents_ = static_cast<size_t>(info[3].As<Napi::Number>().Int64Value());

    auto channel = std::make_shared<RequestChannel>();
    SysError err;
    channel->fd = OpenNetlink(protocol_, &channel->portId, &err);
    if (channel->fd < 0) throw ToJsError(env, err);
    int on = 1;
    // Extended acks carry the kernel's error text; capped acks skip echoing
    // our whole request back. Both are optional (older kernels).
    setsockopt(channel->fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
    setsockopt(channel->fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
    SetReceiveBuffer(channel->fd, 1 << 20);
    channel->wakeFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (channel->wakeFd < 0) {
      int e = errno;
      close(channel->fd);
      throw ToJsError(env, SysError::Of(e, "eventfd"));
    }
    channel->tsfn = RequestTsfn::New(env, "hastor.netlink.request", 0, 1);
    channel->tsfn.Unref(env);
    try {
      RegistryOf(env)->Start(channel, [channel]() { channel->Run(); });
    } catch (const std::system_error& e) {
      close(channel->fd);
      close(channel->wakeFd);
      channel->tsfn.Release();
      throw ToJsError(env, SysError::Of(e.code().value(), "pthread_create"));
    }
    req_ = channel;
  }

  ~NetlinkSocket() override {
    // Garbage-collected without close(): stop the threads, they clean up.
    if (!closed_) {
      req_->closedJs = true;
      req_->RequestStop();
      if (ev_) ev_->RequestStop();
    }
  }

 private:
  void EnsureOpen(Napi::Env env) {
    if (closed_) throw ToJsError(env, SysError::Of(EBADF, "netlink (socket is closed)"));
  }

  // request(payload: Buffer | null, timeoutMs) -> Promise<Buffer[]>: sends the
  // payload (if any), then waits up to timeoutMs (< 0: forever) for at least
  // one datagram and returns all already queued; [] means the wait timed out.
  Napi::Value Request(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    if (info.Length() < 2 || !info[1].IsNumber() ||
        !(info[0].IsBuffer() || info[0].IsNull() || info[0].IsUndefined()))
      throw Napi::TypeError::New(env, "expected (payload: Buffer | null, timeoutMs: number)");
    auto* job = new RequestJob(env);
    job->channel = req_;
    if (info[0].IsBuffer()) {
      auto buffer = info[0].As<Napi::Buffer<uint8_t>>();
      job->hasPayload = true;
      job->payload.assign(buffer.Data(), buffer.Data() + buffer.Length());  // JS may reuse it
    }
    job->timeoutMs = info[1].As<Napi::Number>().Int64Value();
    Napi::Promise promise = job->deferred.Promise();
    if (req_->pendingJs++ == 0) req_->tsfn.Ref(env);
    req_->Submit(job);
    return promise;
  }

  void StartEvents(Napi::Env env) {
    auto channel = std::make_shared<EventChannel>(maxPendingEvents_);
    SysError err;
    int fd = OpenNetlink(protocol_, &channel->portId, &err);
    if (fd < 0) throw ToJsError(env, err);
    SetReceiveBuffer(fd, eventBufferBytes_);
    channel->wakeFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (channel->wakeFd < 0) {
      int e = errno;
      close(fd);
      throw ToJsError(env, SysError::Of(e, "eventfd"));
    }
    channel->SetFd(fd);
    auto* holder = new std::shared_ptr<EventChannel>(channel);
    Napi::Function onEvent = Value().Get("onEvent").As<Napi::Function>();
    channel->tsfn = EventTsfn::New(env, onEvent, "hastor.netlink.events", 0, 1, nullptr,
                                   EventTsfnFinalized, holder);
    if (!ref_) channel->tsfn.Unref(env);
    try {
      RegistryOf(env)->Start(channel, [channel]() { channel->Run(); });
    } catch (const std::system_error& e) {
      channel->RequestStop();
      close(fd);
      close(channel->wakeFd);
      channel->tsfn.Release();
      throw ToJsError(env, SysError::Of(e.code().value(), "pthread_create"));
    }
    ev_ = channel;
  }

  unsigned int GroupArg(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsNumber())
      throw Napi::TypeError::New(info.Env(), "expected (group: number)");
    return info[0].As<Napi::Number>().Uint32Value();
  }

  // joinGroup(group): the first call opens the event socket and its thread.
  void JoinGroup(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    unsigned int group = GroupArg(info);
    if (!ev_) StartEvents(env);
    SysError err = ev_->Membership(NETLINK_ADD_MEMBERSHIP, group);
    if (!err.ok()) throw ToJsError(env, err);
  }

  void LeaveGroup(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    EnsureOpen(env);
    unsigned int group = GroupArg(info);
    if (!ev_) return;
    SysError err = ev_->Membership(NETLINK_DROP_MEMBERSHIP, group);
    if (!err.ok()) throw ToJsError(env, err);
  }

  // ref()/unref(): whether a joined event socket keeps the process alive.
  void Ref(const Napi::CallbackInfo& info) {
    ref_ = true;
    if (!closed_ && ev_ && ev_->tsfnAlive) ev_->tsfn.Ref(info.Env());
  }

  void Unref(const Napi::CallbackInfo& info) {
    ref_ = false;
    if (!closed_ && ev_ && ev_->tsfnAlive) ev_->tsfn.Unref(info.Env());
  }

  // close(): idempotent; never blocks. Pending requests reject with ECANCELED
  // and both threads end, releasing their hold on the event loop.
  void Close(const Napi::CallbackInfo&) {
    if (closed_) return;
    closed_ = true;
    req_->closedJs = true;
    req_->RequestStop();
    if (ev_) ev_->RequestStop();
  }

  Napi::Value PortId(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), req_->portId); }

  Napi::Value EventPortId(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), ev_ ? ev_->portId : 0);
  }

  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), closed_); }

  int protocol_ = 0;
  int eventBufferBytes_ = 0;
  size_t maxPendingEvents_ = 1024;
  bool ref_ = true;
  bool closed_ = false;
  std::shared_ptr<RequestChannel> req_;
  std::shared_ptr<EventChannel> ev_;
};

}  // namespace

void InitNetlinkSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("NetlinkSocket", NetlinkSocket::Define(env));
}

}  // namespace hastor
