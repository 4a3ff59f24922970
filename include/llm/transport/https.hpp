// llm::transport::https: HTTP/1.1 over TCP or TLS on Asio, with a connection pool and a
// deadline for every phase of an exchange.
//
//   llm::transport::https wire{io.get_executor()};                  // TLS verified by default
//   wire.async_send(http_request, [](llm::result<llm::http::response> r) { ... });
//
// TLS peers are verified against the system CA store (or a configured CA), with SNI and host
// name verification; plain http:// is allowed for local servers. Connections are pooled per
// scheme/host/port with keep-alive; a pooled connection the server closed while idle is
// detected before use, and a request that failed on a reused connection before any byte of the
// answer arrived is sent once more on a fresh one. Errors never contain header values.
#pragma once

#include <llm/core/result.hpp>
#include <llm/detail/spawn.hpp>
#include <llm/http/message.hpp>
#include <llm/http/request_writer.hpp>
#include <llm/http/response_parser.hpp>
#include <llm/transport/detail/connection.hpp>
#include <llm/transport/https_options.hpp>
#include <llm/transport/transport.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/error.hpp>
#include <asio/ssl/host_name_verification.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <openssl/ssl.h> // SNI

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace llm::transport {

class https {
public:
    using executor_type = asio::any_io_executor;

    explicit https(executor_type ex, https_options options = {})
        : state_(std::make_shared<state>(std::move(ex), std::move(options)))
    {
    }

    executor_type get_executor() const noexcept { return state_->executor; }
    const https_options& options() const noexcept { return state_->options; }

    // Whether construction failed to load the configured CA (then every request fails too).
    const std::optional<error>& configuration_error() const noexcept { return state_->config_error; }

    // Sends the request and reads the whole response, whatever its status.
    //
    // @par Completion Signature
    //   void(llm::result<llm::http::response>)
    // @par Per-Operation Cancellation
    //   terminal: the connection is closed at once (the server sees the request abandoned) and
    //   is not returned to the pool; the handler receives errc::cancelled.
    // Reads the request only before returning.
    template <class Handler>
    void async_send(const http::request& r, Handler&& handler)
    {
        llm::detail::spawn<http::response>(asio::make_strand(state_->executor), exchange(state_, r),
                                           std::forward<Handler>(handler));
    }

    // Idle pooled connections to the URL's scheme/host/port (for tests and metrics).
    std::size_t idle_connections(std::string_view url) const
    {
        std::error_code ec;
        auto target = http::parse_url(url, ec);
        return target ? state_->pool.idle_count(key_of(*target)) : 0;
    }

private:
    struct state {
        state(executor_type ex, https_options opts)
            : executor(std::move(ex)), options(std::move(opts)), tls_context(asio::ssl::context::tls_client),
              pool(options.max_connections_per_host, options.idle_expiry)
        {
            std::error_code ec;
            tls_context.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                                        asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                                        asio::ssl::context::no_tlsv1_1,
                                    ec);
            if (!options.ca_file.empty())
                tls_context.load_verify_file(options.ca_file, ec);
            else if (!options.ca_dir.empty())
                tls_context.add_verify_path(options.ca_dir, ec);
            else
                tls_context.set_default_verify_paths(ec);
            if (ec)
                config_error =
                    error{errc::invalid_configuration,
                          "could not load the TLS trust store (" +
                              (options.ca_file.empty() ? options.ca_dir : options.ca_file) + "): " + ec.message()};
            tls_context.set_verify_mode(options.verify_peer ? asio::ssl::verify_peer : asio::ssl::verify_none, ec);
        }

        executor_type executor;
        https_options options;
        asio::ssl::context tls_context;
        detail::pool pool;
        std::optional<error> config_error;
    };

    static std::string key_of(const http::url& u) { return u.scheme + "://" + u.host + ":" + std::to_string(u.port); }

    // The phases of an exchange, each with its own deadline.
    enum class phase { connect, tls, first_byte, idle };

    static const char* name(phase p) noexcept
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

    // Closes what the exchange is waiting on when the current phase's deadline (or the total
    // one) passes. It runs on the exchange's strand, like the exchange itself.
    struct watchdog {
        explicit watchdog(const asio::any_io_executor& ex, std::chrono::steady_clock::time_point total_deadline)
            : timer(ex), total(total_deadline)
        {
        }

        void arm(phase p, std::chrono::milliseconds limit, std::function<void()> abort_what)
        {
            current = p;
            abort = std::move(abort_what);
            const auto phase_deadline = std::chrono::steady_clock::now() + limit;
            total_binds = total <= phase_deadline;
            timer.expires_at(total_binds ? total : phase_deadline);
            timer.async_wait([self = self_ref.lock()](std::error_code ec) {
                if (!ec && self && !self->fired) {
                    self->fired = true;
                    if (self->abort)
                        self->abort();
                }
            });
        }

        void disarm()
        {
            abort = nullptr;
            timer.cancel();
        }

        error timeout() const
        {
            return {errc::timeout,
                    std::string(total_binds ? "total" : name(current)) + " timeout (" + name(current) + " phase)"};
        }

        asio::steady_timer timer;
        std::chrono::steady_clock::time_point total;
        std::weak_ptr<watchdog> self_ref;
        phase current = phase::connect;
        bool total_binds = false;
        bool fired = false;
        std::function<void()> abort;
    };

    static asio::awaitable<bool> cancelled()
    {
        auto cs = co_await asio::this_coro::cancellation_state;
        co_return cs.cancelled() != asio::cancellation_type::none;
    }

    static asio::awaitable<std::optional<result<http::response>>> exchange(std::shared_ptr<state> st, http::request r)
    {
        co_await asio::this_coro::throw_if_cancelled(false);
        if (st->config_error)
            co_return *st->config_error;
        std::error_code ec;
        const auto target = http::parse_url(r.url, ec);
        if (!target)
            co_return error{errc::bad_request, ec.message()};
        std::string wire;
        if (auto bad = http::write_request(r, *target, wire))
            co_return error{errc::bad_request, bad.message()};
        const auto key = key_of(*target);
        const auto ex = co_await asio::this_coro::executor;
        auto dog = std::make_shared<watchdog>(ex, std::chrono::steady_clock::now() + st->options.total_timeout);
        dog->self_ref = dog;

        // A reused connection may have been closed by the server in the instant before we used it;
        // if nothing of the answer arrived, the request is sent once more on a fresh connection.
        for (int attempt = 0; attempt < 2; ++attempt) {
            auto lease = co_await acquire(*st, key);
            if (!lease)
                co_return std::move(lease).error();
            auto conn = std::move(lease.value().conn);
            const bool reused = conn != nullptr;
            if (!conn) {
                auto fresh = co_await connect(*st, *target, *dog);
                if (!fresh) {
                    st->pool.release(key, nullptr, false);
                    dog->disarm();
                    co_return std::move(fresh).error();
                }
                conn = std::move(fresh).value();
            }
            http::response_parser parser(st->options.limits);
            http::buffered_response sink;
            auto outcome = co_await round_trip(*st, *conn, wire, parser, sink, *dog);
            if (!outcome && reused && !parser.started() && !dog->fired && !co_await cancelled()) {
                st->pool.release(key, std::move(conn), false);
                continue;
            }
            dog->disarm();
            const bool reusable = outcome && parser.keep_alive();
            st->pool.release(key, std::move(conn), reusable);
            if (!outcome)
                co_return std::move(outcome).error();
            co_return std::move(sink.response);
        }
        dog->disarm();
        co_return error{errc::provider_unavailable, "the server closed the connection twice before answering"};
    }

    // Waits for one of the host's connection slots.
    static asio::awaitable<result<detail::pool::lease>> acquire(state& st, const std::string& key)
    {
        detail::pool::lease lease;
        auto w = std::make_shared<detail::pool::waiter>(co_await asio::this_coro::executor);
        if (st.pool.try_acquire(key, lease, w))
            co_return lease;
        auto [ec] = co_await w->wake.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        (void)ec; // woken by a grant or by cancellation: claim() tells which
        if (st.pool.claim(key, w, co_await cancelled(), lease))
            co_return lease;
        co_return error{errc::cancelled, "cancelled while waiting for a connection"};
    }

    static asio::awaitable<result<std::unique_ptr<detail::connection>>> connect(state& st, const http::url& target,
                                                                                watchdog& dog)
    {
        const auto ex = co_await asio::this_coro::executor;
        auto conn = std::make_unique<detail::connection>(st.executor, st.tls_context, target.tls());
        asio::ip::tcp::resolver resolver(ex);
        dog.arm(phase::connect, st.options.connect_timeout, [&resolver, c = conn.get()] {
            resolver.cancel();
            c->close();
        });
        auto [resolve_ec, endpoints] = co_await resolver.async_resolve(
            target.host, std::to_string(target.port), asio::experimental::as_tuple(asio::use_awaitable));
        if (resolve_ec)
            co_return failure(dog, resolve_ec, "could not resolve " + target.host);
        auto [connect_ec, endpoint] =
            co_await asio::async_connect(conn->socket(), endpoints, asio::experimental::as_tuple(asio::use_awaitable));
        (void)endpoint;
        if (connect_ec)
            co_return failure(dog, connect_ec,
                              "could not connect to " + target.host + ":" + std::to_string(target.port));
        std::error_code ignored;
        conn->socket().set_option(asio::ip::tcp::no_delay(true), ignored);

        if (target.tls()) {
            auto& tls = conn->tls_stream();
            asio::error_code addr_ec;
            const bool is_address = (asio::ip::make_address(target.host, addr_ec), !addr_ec);
            // SNI, for names only (RFC 6066). SSL_set_tlsext_host_name is a macro with a C cast.
            if (!is_address && SSL_ctrl(tls.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                        const_cast<char*>(target.host.c_str())) != 1)
                co_return error{errc::internal_error, "could not set the TLS server name"};
            if (st.options.verify_peer)
                tls.set_verify_callback(asio::ssl::host_name_verification(target.host));
            dog.arm(phase::tls, st.options.tls_timeout, [c = conn.get()] { c->close(); });
            auto [tls_ec] = co_await tls.async_handshake(asio::ssl::stream_base::client,
                                                         asio::experimental::as_tuple(asio::use_awaitable));
            if (tls_ec) {
                if (!dog.fired && tls_ec.category() == asio::error::get_ssl_category())
                    co_return error{errc::tls_verification_failed,
                                    "TLS handshake with " + target.host + " failed: " + tls_ec.message()};
                co_return failure(dog, tls_ec, "TLS handshake with " + target.host + " failed");
            }
        }
        co_return conn;
    }

    // Writes the request and reads the response through the parser.
    template <class Sink>
    static asio::awaitable<result<void>> round_trip(state& st, detail::connection& conn, const std::string& wire,
                                                    http::response_parser& parser, Sink& sink, watchdog& dog)
    {
        dog.arm(phase::first_byte, st.options.first_byte_timeout, [&conn] { conn.close(); });
        auto [write_ec, written] =
            co_await asio::async_write(conn, asio::buffer(wire), asio::experimental::as_tuple(asio::use_awaitable));
        (void)written;
        if (write_ec)
            co_return failure(dog, write_ec, "sending the request failed");
        std::array<char, 16 * 1024> buffer;
        while (!parser.done()) {
            auto [read_ec, n] =
                co_await conn.async_read_some(asio::buffer(buffer), asio::experimental::as_tuple(asio::use_awaitable));
            if (n > 0) {
                std::error_code parse_ec;
                parser.put(std::string_view(buffer.data(), n), sink, parse_ec);
                if (parse_ec)
                    co_return error{errc::malformed_response, parse_ec.message()};
                if (parser.done())
                    break;
                dog.arm(phase::idle, st.options.idle_timeout, [&conn] { conn.close(); });
            }
            if (read_ec == asio::error::eof || read_ec == asio::ssl::error::stream_truncated) {
                std::error_code end_ec;
                parser.finish(sink, end_ec);
                if (end_ec) {
                    if (!parser.started())
                        co_return error{errc::provider_unavailable,
                                        "the server closed the connection without answering"};
                    co_return error{errc::provider_unavailable, end_ec.message()};
                }
                break;
            }
            if (read_ec)
                co_return failure(dog, read_ec, "reading the response failed");
        }
        co_return success();
    }

    // An I/O failure, named by what caused it: our deadline, the caller's cancellation, or the network.
    static error failure(const watchdog& dog, std::error_code ec, const std::string& doing)
    {
        if (dog.fired)
            return dog.timeout();
        if (ec == asio::error::operation_aborted)
            return {errc::cancelled, doing + ": cancelled"};
        return {errc::provider_unavailable, doing + ": " + ec.message()};
    }

    std::shared_ptr<state> state_;
};

static_assert(http_transport<https>);

} // namespace llm::transport
