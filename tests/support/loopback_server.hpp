// llm::test::loopback_server: a scriptable HTTP/1.1 server on 127.0.0.1, plain or TLS, running
// on a thread of its own, for tests of everything that talks to the network.
//
// Each request it reads takes the next script: a list of actions (send bytes, wait, drip bytes
// one at a time, close, reset, stall until the client gives up). It records the requests it
// received, how many connections it accepted, and how many the clients closed.
#pragma once

#include <support/test_certificates.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace llm::test {

namespace server_action {
struct send {
    std::string bytes;
};
struct wait {
    std::chrono::milliseconds duration;
};
struct drip { // each byte on its own, `gap` apart
    std::string bytes;
    std::chrono::milliseconds gap;
};
struct close {}; // orderly close (FIN)
struct reset {}; // abortive close (RST)
struct stall {}; // send nothing more; wait until the client closes
struct tunnel {  // act as a CONNECT proxy: answer 200, then pipe bytes to 127.0.0.1:port both ways
    std::uint16_t port;
};
} // namespace server_action

using action = std::variant<server_action::send, server_action::wait, server_action::drip, server_action::close,
                            server_action::reset, server_action::stall, server_action::tunnel>;
using script = std::vector<action>;

// Common answers.
inline script answer(int status, std::string body, std::string extra_headers = "")
{
    return {server_action::send{"HTTP/1.1 " + std::to_string(status) + " Scripted\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body}};
}

inline std::string chunk_of(std::string_view data)
{
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return std::string(size) + std::string(data) + "\r\n";
}

// A chunked body sent piece by piece, `gap` apart.
inline script chunked(int status, const std::vector<std::string>& pieces, std::chrono::milliseconds gap,
                      std::string content_type = "text/event-stream")
{
    script s{server_action::send{"HTTP/1.1 " + std::to_string(status) + " Scripted\r\nContent-Type: " + content_type +
                                 "\r\nTransfer-Encoding: chunked\r\n\r\n"}};
    for (const auto& piece : pieces) {
        if (gap.count() > 0)
            s.push_back(server_action::wait{gap});
        s.push_back(server_action::send{chunk_of(piece)});
    }
    s.push_back(server_action::send{"0\r\n\r\n"});
    return s;
}

// A chunked event stream that sends its first event, then goes silent with the connection open:
// what a stalled provider looks like, for deadline and cancellation tests.
inline script first_event_then_stall()
{
    return {server_action::send{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk_of("data: 1\n\n")},
            server_action::stall{}};
}

struct received_request {
    std::string head; // request line and headers, as sent
    std::string body;
};

enum class tls_certificate { none, localhost, wrong_host, untrusted };

class loopback_server {
public:
    explicit loopback_server(tls_certificate certificate = tls_certificate::none)
        : tls_(certificate != tls_certificate::none), tls_context_(asio::ssl::context::tls_server)
    {
        if (tls_) {
            const auto& certs = test_certificates::get();
            const pem_pair& pair = certificate == tls_certificate::localhost    ? certs.localhost
                                   : certificate == tls_certificate::wrong_host ? certs.wrong_host
                                                                                : certs.untrusted;
            tls_context_.use_certificate_chain(asio::buffer(pair.certificate));
            tls_context_.use_private_key(asio::buffer(pair.key), asio::ssl::context::pem);
        }
        acceptor_.open(asio::ip::tcp::v4());
        acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
        acceptor_.bind({asio::ip::make_address_v4("127.0.0.1"), 0});
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
        asio::co_spawn(io_, accept_loop(), asio::detached);
        thread_ = std::thread([this] { io_.run(); });
    }

    ~loopback_server()
    {
        io_.stop();
        thread_.join();
    }

    loopback_server(const loopback_server&) = delete;
    loopback_server& operator=(const loopback_server&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    std::string url(std::string_view path = "/") const
    {
        return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + std::string(path);
    }

    loopback_server& then(script s)
    {
        std::lock_guard lock(mutex_);
        scripts_.push_back(std::move(s));
        return *this;
    }
    // When the scripts run out, every request gets this one.
    loopback_server& otherwise(script s)
    {
        std::lock_guard lock(mutex_);
        otherwise_ = std::move(s);
        return *this;
    }

    std::vector<received_request> received() const
    {
        std::lock_guard lock(mutex_);
        return received_;
    }
    std::size_t connections_accepted() const noexcept { return accepted_; }
    std::size_t connections_closed_by_client() const noexcept { return closed_by_client_; }
    // Waits (in real time, up to `bound`) until clients have closed `count` connections.
    bool wait_for_client_closes(std::size_t count, std::chrono::milliseconds bound = std::chrono::seconds(2)) const
    {
        const auto deadline = std::chrono::steady_clock::now() + bound;
        while (closed_by_client_ < count && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return closed_by_client_ >= count;
    }
    // When the client last closed a connection (steady clock), for "closed within N ms" checks.
    std::chrono::steady_clock::time_point last_client_close() const
    {
        std::lock_guard lock(mutex_);
        return last_client_close_;
    }

private:
    asio::awaitable<void> accept_loop()
    {
        while (true) {
            auto [ec, socket] = co_await acceptor_.async_accept(asio::experimental::as_tuple(asio::use_awaitable));
            if (ec)
                co_return;
            ++accepted_;
            if (tls_)
                asio::co_spawn(io_, tls_session(std::move(socket)), asio::detached);
            else
                asio::co_spawn(io_, plain_session(std::move(socket)), asio::detached);
        }
    }

    asio::awaitable<void> tls_session(asio::ip::tcp::socket socket)
    {
        asio::ssl::stream<asio::ip::tcp::socket> stream(std::move(socket), tls_context_);
        auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server,
                                                    asio::experimental::as_tuple(asio::use_awaitable));
        if (ec) {
            ++closed_by_client_; // the client refused us during the handshake
            co_return;
        }
        co_await session(stream);
    }

    asio::awaitable<void> plain_session(asio::ip::tcp::socket socket) { co_await session(socket); }

    template <class Stream>
    asio::awaitable<void> session(Stream& stream)
    {
        std::string buffer;
        while (true) {
            received_request request;
            if (!co_await read_request(stream, buffer, request)) {
                client_closed();
                co_return;
            }
            script s = next_script(std::move(request));
            for (const auto& a : s) {
                if (!co_await perform(stream, a))
                    co_return;
            }
        }
    }

    // Reads one request: head up to the blank line, then a Content-Length body.
    template <class Stream>
    asio::awaitable<bool> read_request(Stream& stream, std::string& buffer, received_request& out)
    {
        std::size_t head_end;
        while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos)
            if (!co_await read_more(stream, buffer))
                co_return false;
        out.head = buffer.substr(0, head_end + 4);
        buffer.erase(0, head_end + 4);
        std::size_t length = 0;
        if (auto at = lower(out.head).find("\r\ncontent-length:"); at != std::string::npos)
            length = std::stoul(out.head.substr(at + 17));
        while (buffer.size() < length)
            if (!co_await read_more(stream, buffer))
                co_return false;
        out.body = buffer.substr(0, length);
        buffer.erase(0, length);
        co_return true;
    }

    template <class Stream>
    asio::awaitable<bool> read_more(Stream& stream, std::string& buffer)
    {
        char data[4096];
        auto [ec, n] =
            co_await stream.async_read_some(asio::buffer(data), asio::experimental::as_tuple(asio::use_awaitable));
        buffer.append(data, n);
        co_return !ec;
    }

    template <class Stream>
    asio::awaitable<bool> perform(Stream& stream, const action& a)
    {
        using namespace server_action;
        if (auto* s = std::get_if<server_action::send>(&a)) {
            auto [ec, n] = co_await asio::async_write(stream, asio::buffer(s->bytes),
                                                      asio::experimental::as_tuple(asio::use_awaitable));
            (void)n;
            if (ec)
                client_closed(); // a write fails when the client has gone
            co_return !ec;
        }
        if (auto* w = std::get_if<wait>(&a)) {
            asio::steady_timer t(io_, w->duration);
            co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
            co_return true;
        }
        if (auto* d = std::get_if<drip>(&a)) {
            for (char c : d->bytes) {
                asio::steady_timer t(io_, d->gap);
                co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
                auto [ec, n] = co_await asio::async_write(stream, asio::buffer(&c, 1),
                                                          asio::experimental::as_tuple(asio::use_awaitable));
                (void)n;
                if (ec) {
                    client_closed();
                    co_return false;
                }
            }
            co_return true;
        }
        if (auto* t = std::get_if<tunnel>(&a)) {
            if constexpr (std::is_same_v<Stream, asio::ip::tcp::socket>)
                co_await pipe(stream, t->port);
            co_return false;
        }
        auto& socket = lowest_layer(stream);
        std::error_code ignored;
        if (std::holds_alternative<close>(a)) {
            socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
            socket.close(ignored);
            co_return false;
        }
        if (std::holds_alternative<reset>(a)) {
            socket.set_option(asio::socket_base::linger(true, 0), ignored);
            socket.close(ignored);
            co_return false;
        }
        // stall: read (and ignore) until the client closes.
        std::string sink;
        while (co_await read_more(stream, sink))
            sink.clear();
        client_closed();
        co_return false;
    }

    asio::awaitable<void> pipe(asio::ip::tcp::socket& client, std::uint16_t port)
    {
        auto upstream = std::make_shared<asio::ip::tcp::socket>(io_);
        auto [ec] = co_await upstream->async_connect({asio::ip::make_address_v4("127.0.0.1"), port},
                                                     asio::experimental::as_tuple(asio::use_awaitable));
        if (ec)
            co_return;
        const std::string established = "HTTP/1.1 200 Connection established\r\n\r\n";
        co_await asio::async_write(client, asio::buffer(established),
                                   asio::experimental::as_tuple(asio::use_awaitable));
        auto downstream = std::make_shared<asio::ip::tcp::socket>(std::move(client));
        auto copy = [](std::shared_ptr<asio::ip::tcp::socket> from,
                       std::shared_ptr<asio::ip::tcp::socket> to) -> asio::awaitable<void> {
            char data[4096];
            while (true) {
                auto [read_ec, n] = co_await from->async_read_some(asio::buffer(data),
                                                                   asio::experimental::as_tuple(asio::use_awaitable));
                if (n > 0)
                    co_await asio::async_write(*to, asio::buffer(data, n),
                                               asio::experimental::as_tuple(asio::use_awaitable));
                if (read_ec) {
                    std::error_code ignored;
                    to->shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
                    co_return;
                }
            }
        };
        asio::co_spawn(io_, copy(upstream, downstream), asio::detached);
        co_await copy(downstream, upstream);
    }

    static asio::ip::tcp::socket& lowest_layer(asio::ip::tcp::socket& s) { return s; }
    static asio::ip::tcp::socket& lowest_layer(asio::ssl::stream<asio::ip::tcp::socket>& s) { return s.next_layer(); }

    static std::string lower(std::string s)
    {
        for (auto& c : s)
            if (c >= 'A' && c <= 'Z')
                c = static_cast<char>(c - 'A' + 'a');
        return s;
    }

    script next_script(received_request request)
    {
        std::lock_guard lock(mutex_);
        received_.push_back(std::move(request));
        if (scripts_.empty())
            return otherwise_.empty() ? answer(500, "loopback_server: no script left") : otherwise_;
        script s = std::move(scripts_.front());
        scripts_.pop_front();
        return s;
    }

    void client_closed()
    {
        std::lock_guard lock(mutex_);
        ++closed_by_client_;
        last_client_close_ = std::chrono::steady_clock::now();
    }

    bool tls_;
    asio::ssl::context tls_context_;
    asio::io_context io_;
    asio::ip::tcp::acceptor acceptor_{io_};
    std::uint16_t port_ = 0;
    std::thread thread_;

    mutable std::mutex mutex_;
    std::deque<script> scripts_;
    script otherwise_;
    std::vector<received_request> received_;
    std::atomic<std::size_t> accepted_{0};
    std::atomic<std::size_t> closed_by_client_{0};
    std::chrono::steady_clock::time_point last_client_close_{};
};

} // namespace llm::test
