// One connection to a server, plain TCP or TLS over it, and the pool that keeps connections
// open between requests, one queue per scheme/host/port.
#pragma once

#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace llm::transport::detail {

class connection {
public:
    connection(const asio::any_io_executor& ex, asio::ssl::context& tls_context, bool tls)
        : stream_(ex, tls_context), tls_(tls)
    {
    }

    using executor_type = asio::any_io_executor;
    executor_type get_executor() noexcept { return socket().get_executor(); }

    asio::ssl::stream<asio::ip::tcp::socket>& tls_stream() noexcept { return stream_; }
    asio::ip::tcp::socket& socket() noexcept { return stream_.next_layer(); }
    bool tls() const noexcept { return tls_; }

    template <class Buffers, class Token>
    auto async_write_some(const Buffers& buffers, Token&& token)
    {
        if (tls_)
            return stream_.async_write_some(buffers, std::forward<Token>(token));
        return socket().async_write_some(buffers, std::forward<Token>(token));
    }

    template <class Buffers, class Token>
    auto async_read_some(const Buffers& buffers, Token&& token)
    {
        if (tls_)
            return stream_.async_read_some(buffers, std::forward<Token>(token));
        return socket().async_read_some(buffers, std::forward<Token>(token));
    }

    // Closing the socket aborts every pending operation on it at once.
    void close() noexcept
    {
        std::error_code ignored;
        socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        socket().close(ignored);
    }

    // A pooled connection the server has closed (or sent unexpected bytes on) must not be
    // reused: a peek tells without consuming anything. The socket is in non-blocking mode from
    // the moment it connects (Asio's asynchronous operations work the same in it).
    bool looks_alive() noexcept
    {
        if (!socket().is_open())
            return false;
        std::error_code ec;
        char byte = 0;
        socket().receive(asio::buffer(&byte, 1), asio::socket_base::message_peek, ec); // non-blocking socket
        return ec == asio::error::would_block || ec == asio::error::try_again;
    }

    std::chrono::steady_clock::time_point idle_since{};

    // Where the exchanges on this connection run: the executor (a strand, unless the transport
    // is single-threaded) of the exchange that opened it. Exchanges on one connection follow each
    // other, so they can share it, and a reused connection needs no new strand.
    asio::any_io_executor runs_on;

    // Where reads land, one per connection rather than per request. Not initialised: only what
    // a read fills is used.
    std::array<char, 16 * 1024> buffer;

private:
    asio::ssl::stream<asio::ip::tcp::socket> stream_;
    bool tls_;
};

// Connections per host: at most `limit` open at once (in use or idle); requests beyond it wait
// in arrival order. Safe to use from many threads.
class pool {
public:
    pool(std::size_t limit, std::chrono::milliseconds idle_expiry, std::chrono::milliseconds check_idle_after)
        : limit_(limit), idle_expiry_(idle_expiry), check_idle_after_(check_idle_after)
    {
    }

    // What acquire() hands out: a live pooled connection, or the right to open a new one
    // (conn == nullptr). Either way the caller owns one of the host's slots until release().
    struct lease {
        std::unique_ptr<connection> conn;
    };

    // A request waiting for a slot.
    struct waiter {
        explicit waiter(const asio::any_io_executor& ex) : wake(ex, asio::steady_timer::time_point::max()) {}
        asio::steady_timer wake; // cancelled (on its own executor) when the slot is granted
        bool granted = false;
        lease given;
    };

    // Takes a slot now if one is free (and returns nullptr); otherwise queues a waiter whose
    // timer runs on `ex` and returns it: the caller waits on its wake timer, then claim()s.
    std::shared_ptr<waiter> try_acquire(std::string_view key, lease& out, const asio::any_io_executor& ex)
    {
        std::lock_guard lock(mutex_);
        auto& host = host_for(key);
        if (take_idle(host, out))
            return nullptr;
        if (host.open < limit_) {
            ++host.open;
            return nullptr;
        }
        return host.waiters.emplace_back(std::make_shared<waiter>(ex));
    }

    // Takes a live kept-alive connection, with its slot, if one is idle; nothing otherwise.
    bool try_take_idle(std::string_view key, lease& out)
    {
        std::lock_guard lock(mutex_);
        auto host = hosts_.find(key);
        return host != hosts_.end() && take_idle(host->second, out);
    }

    // After a wait ends: true, with the slot, if it was granted. A caller that was cancelled
    // instead leaves the queue, and gives back a slot granted at the same moment.
    bool claim(std::string_view key, const std::shared_ptr<waiter>& w, bool cancelled, lease& out)
    {
        std::unique_lock lock(mutex_);
        auto& host = host_for(key);
        std::erase(host.waiters, w);
        if (!w->granted)
            return false;
        w->granted = false;
        if (!cancelled) {
            out = std::move(w->given);
            return true;
        }
        auto conn = std::move(w->given.conn);
        const bool reusable = conn != nullptr;
        lock.unlock();
        release(key, std::move(conn), reusable);
        return false;
    }

    // Gives the slot back: with a connection that may be reused, or without (closed).
    void release(std::string_view key, std::unique_ptr<connection> conn, bool reusable)
    {
        std::shared_ptr<waiter> next;
        {
            std::lock_guard lock(mutex_);
            auto& host = host_for(key);
            if (!reusable && conn) {
                conn->close();
                conn.reset();
            }
            if (!conn)
                --host.open;
            if (!host.waiters.empty()) {
                next = host.waiters.front();
                host.waiters.pop_front();
                if (!conn)
                    ++host.open; // the waiter opens a new connection in this slot
                next->given.conn = std::move(conn);
                next->granted = true;
            } else if (conn) {
                conn->idle_since = std::chrono::steady_clock::now();
                host.idle.push_back(std::move(conn));
            }
        }
        if (next) // wake it on its own executor: timers are not shared between threads
            asio::post(next->wake.get_executor(), [next] { next->wake.cancel(); });
    }

    // For tests and metrics.
    std::size_t idle_count(std::string_view key)
    {
        std::lock_guard lock(mutex_);
        return host_for(key).idle.size();
    }

private:
    struct host_state {
        std::size_t open = 0; // slots taken: connections in use or idle, and connects in progress
        std::deque<std::unique_ptr<connection>> idle;
        std::deque<std::shared_ptr<waiter>> waiters;
    };

    // With mutex_ held. A host's key is copied once, when it is first seen.
    host_state& host_for(std::string_view key)
    {
        if (auto found = hosts_.find(key); found != hosts_.end())
            return found->second;
        return hosts_.emplace(std::string(key), host_state{}).first->second;
    }

    // The most recently used live connection, closing expired or dead ones on the way. One idle
    // for a moment only is taken as it is (https_options::check_idle_after).
    bool take_idle(host_state& host, lease& out)
    {
        const auto now = std::chrono::steady_clock::now();
        while (!host.idle.empty()) {
            auto conn = std::move(host.idle.back());
            host.idle.pop_back();
            const auto idle = now - conn->idle_since;
            if (idle < idle_expiry_ && (idle < check_idle_after_ || conn->looks_alive())) {
                out.conn = std::move(conn);
                return true;
            }
            conn->close();
            --host.open;
        }
        return false;
    }

    std::mutex mutex_;
    std::size_t limit_;
    std::chrono::milliseconds idle_expiry_;
    std::chrono::milliseconds check_idle_after_;
    std::map<std::string, host_state, std::less<>> hosts_;
};

} // namespace llm::transport::detail
