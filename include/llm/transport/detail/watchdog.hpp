// The deadlines of an exchange (connect, TLS handshake, first byte, idle stream, total), and
// the one timer per transport that watches all of them.
//
// A timer per exchange costs a system call to arm it (timerfd_settime) and a turn of the event
// loop to cancel it, on every request. Here an exchange only writes its deadline into a list
// kept by the transport's `deadlines`; its one timer sleeps until the earliest deadline it knows
// of, is moved only when a new deadline comes before that, and when it wakes it expires what is
// due and sleeps again until the next. Requests that follow each other, or run side by side
// with the same timeouts, never move it.
#pragma once

#include <llm/core/error.hpp>
#include <llm/transport/detail/connection.hpp>
#include <llm/transport/detail/executor.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace llm::transport::detail {

// The phases of an exchange, each with its own deadline.
enum class phase { connect, tls, first_byte, idle };

inline const char* name(phase p) noexcept
{
    switch (p) {
    case phase::connect:
        return "connect";
    case phase::tls:
        return "TLS handshake";
    case phase::first_byte:
        return "first byte";
    case phase::idle:
        return "idle stream";
    }
    return "unknown";
}

class watchdog;

// The deadlines of one transport's exchanges. Safe to use from many threads.
//
// Its timer is left waiting when no exchange runs, and that wait must not keep
// io_context::run() from returning: on an io_context the wait is not counted as outstanding
// work (the count is given back the moment its handler starts). On any other execution context
// the timer is cancelled instead when the last deadline is lifted.
class deadlines : public std::enable_shared_from_this<deadlines> {
public:
    using clock = std::chrono::steady_clock;

    // Shared, because a pending wait holds it weakly: made any other way it would never expire.
    static std::shared_ptr<deadlines> make(const asio::any_io_executor& ex)
    {
        return std::make_shared<deadlines>(ex, made_by_make{});
    }

    struct made_by_make {
        explicit made_by_make() = default;
    };
    deadlines(const asio::any_io_executor& ex, made_by_make)
        : io_(io_context_of(ex)), timer_(io_ ? asio::any_io_executor(*io_) : ex)
    {
    }
    deadlines(const deadlines&) = delete;
    deadlines& operator=(const deadlines&) = delete;

    // Expires `w` at `when`, unless watch() or forget() is called for it again before.
    void watch(watchdog& w, clock::time_point when);
    void forget(watchdog& w);

private:
    void link(watchdog& w) noexcept;
    void unlink(watchdog& w) noexcept;
    void wait_until(clock::time_point when); // with mutex_ held
    void on_timer(std::error_code ec);

    std::mutex mutex_;
    watchdog* first_ = nullptr; // the watched, in no order
    std::optional<asio::io_context::executor_type> io_;
    asio::steady_timer timer_;
    clock::time_point armed_ = clock::time_point::max(); // when the pending wait ends; max: none
};

// One exchange's deadlines. It runs on the exchange's executor, like the exchange itself; on
// expiry it closes what the exchange is waiting on, and its I/O fails at once.
class watchdog {
public:
    using clock = deadlines::clock;

    explicit watchdog(std::shared_ptr<deadlines> keeper) : keeper_(std::move(keeper)) {}
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;
    ~watchdog() { pause(); }

    // Where expiries run: the exchange's executor, chosen before the first deadline is armed.
    void run_on(asio::any_io_executor ex) { executor_ = std::move(ex); }

    // The deadline of the whole exchange starts now. `self` shares the exchange's ownership: a
    // pending expiry holds it weakly, so it never keeps an abandoned exchange alive.
    void start(std::chrono::milliseconds total_limit, std::weak_ptr<watchdog> self)
    {
        total_ = clock::now() + total_limit;
        self_ = std::move(self);
    }

    // Until the next arm(), pause() or disarm(), the deadline closes `conn` (and cancels `resolver`).
    void arm(phase p, std::chrono::milliseconds limit, connection* conn, asio::ip::tcp::resolver* resolver = nullptr)
    {
        current_ = p;
        target_ = conn;
        resolving_ = resolver;
        const auto phase_deadline = clock::now() + limit;
        total_binds_ = total_ <= phase_deadline;
        running_ = true;
        keeper_->watch(*this, total_binds_ ? total_ : phase_deadline);
    }

    // Between reads of a stream the caller may take its time: no deadline runs. Only arm()
    // hands a deadline to the keeper, so with none running there is nothing to take back (and
    // its lock is not taken).
    void pause()
    {
        if (!running_)
            return;
        running_ = false;
        keeper_->forget(*this);
    }

    void disarm()
    {
        pause();
        target_ = nullptr;
        resolving_ = nullptr;
    }

    phase current() const noexcept { return current_; }
    bool fired() const noexcept { return fired_; }

    error timeout() const
    {
        return {errc::timeout,
                std::string(total_binds_ ? "total" : name(current_)) + " timeout (" + name(current_) + " phase)"};
    }

private:
    friend class deadlines;

    // On the exchange's executor, once the keeper found the deadline passed.
    void expire()
    {
        if (!running_ || fired_)
            return;
        fired_ = true;
        if (resolving_)
            resolving_->cancel();
        if (target_)
            target_->close();
    }

    std::shared_ptr<deadlines> keeper_;
    asio::any_io_executor executor_;
    std::weak_ptr<watchdog> self_;
    clock::time_point total_{};
    phase current_ = phase::connect;
    bool total_binds_ = false;
    bool running_ = false; // a deadline is in force
    bool fired_ = false;
    connection* target_ = nullptr;
    asio::ip::tcp::resolver* resolving_ = nullptr;

    // The keeper's, under its mutex: the deadline in force, the list it sits in, and a count
    // that changes with every watch() and forget(), so an expiry found just as the exchange
    // moved on is recognised as stale.
    clock::time_point deadline_{};
    std::uint64_t generation_ = 0;
    watchdog* prev_ = nullptr;
    watchdog* next_ = nullptr;
    bool linked_ = false;
};

inline void deadlines::watch(watchdog& w, clock::time_point when)
{
    std::lock_guard lock(mutex_);
    w.deadline_ = when;
    ++w.generation_;
    link(w);
    if (when < armed_)
        wait_until(when);
}

inline void deadlines::forget(watchdog& w)
{
    std::lock_guard lock(mutex_);
    ++w.generation_;
    unlink(w);
    if (!io_ && !first_ && armed_ != clock::time_point::max()) {
        armed_ = clock::time_point::max();
        timer_.cancel();
    }
}

inline void deadlines::link(watchdog& w) noexcept
{
    if (w.linked_)
        return;
    w.linked_ = true;
    w.prev_ = nullptr;
    w.next_ = first_;
    if (first_)
        first_->prev_ = &w;
    first_ = &w;
}

inline void deadlines::unlink(watchdog& w) noexcept
{
    if (!w.linked_)
        return;
    w.linked_ = false;
    (w.prev_ ? w.prev_->next_ : first_) = w.next_;
    if (w.next_)
        w.next_->prev_ = w.prev_;
    w.prev_ = w.next_ = nullptr;
}

inline void deadlines::wait_until(clock::time_point when)
{
    timer_.expires_at(when); // a pending wait completes as cancelled
    armed_ = clock::time_point::max();
    timer_.async_wait([weak = weak_from_this(), io = io_](std::error_code ec) {
        if (io)
            io->on_work_started(); // the count given back below, taken again as the scheduler
                                   // ends this handler
        if (auto self = weak.lock())
            self->on_timer(ec);
    });
    armed_ = when; // only once the wait exists
    if (io_)
        io_->on_work_finished();
}

inline void deadlines::on_timer(std::error_code ec)
{
    if (ec)
        return; // moved, or the transport is gone; a newer wait is pending if one is needed
    struct due {
        std::weak_ptr<watchdog> dog;
        std::uint64_t generation;
        asio::any_io_executor executor;
    };
    std::vector<due> expired;
    {
        std::lock_guard lock(mutex_);
        const auto now = clock::now();
        if (now < armed_)
            return; // a wait for an earlier deadline was set after this one fired
        armed_ = clock::time_point::max();
        auto next = clock::time_point::max();
        for (watchdog* w = first_; w;) {
            watchdog* after = w->next_;
            if (w->deadline_ <= now) {
                expired.push_back({w->self_, w->generation_, w->executor_}); // may throw: still linked
                unlink(*w);
            } else if (w->deadline_ < next) {
                next = w->deadline_;
            }
            w = after;
        }
        if (next != clock::time_point::max())
            wait_until(next);
    }
    for (auto& d : expired)
        asio::post(d.executor, [dog = std::move(d.dog), generation = d.generation] {
            if (auto w = dog.lock(); w && w->generation_ == generation)
                w->expire();
        });
}

} // namespace llm::transport::detail
