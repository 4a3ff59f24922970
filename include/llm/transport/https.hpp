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
#include <llm/detail/small_string.hpp>
#include <llm/detail/spawn.hpp>
#include <llm/http/message.hpp>
#include <llm/http/request_writer.hpp>
#include <llm/http/response_parser.hpp>
#include <llm/transport/detail/connection.hpp>
#include <llm/transport/detail/executor.hpp>
#include <llm/transport/detail/watchdog.hpp>
#include <llm/transport/https_options.hpp>
#include <llm/transport/transport.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/associated_allocator.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/cancellation_state.hpp>
#include <asio/connect.hpp>
#include <asio/dispatch.hpp>
#include <asio/execution/outstanding_work.hpp>
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
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

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
        auto x = std::make_shared<exchange>(state_, r);
        detail::pool::lease kept;
        if (!x->setup_error && state_->pool.try_take_idle(x->key, kept)) {
            x->run_on(kept.conn->runs_on);
            x->conn = std::move(kept.conn);
            x->holds_slot = true;
            kept_alive_send<std::decay_t<Handler>>::start(std::move(x), std::forward<Handler>(handler));
            return;
        }
        x->run_on(state_->exchange_executor());
        auto ex = x->executor;
        llm::detail::spawn<http::response>(ex, send_whole(std::move(x)), std::forward<Handler>(handler));
    }

    class response_stream;

    // Prepares a request whose response is read as it arrives; nothing is sent before the
    // stream's first async_read_head. Reads the request only before returning.
    response_stream open(const http::request& r);

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
              pool(options.max_connections_per_host, options.idle_expiry, options.check_idle_after),
              deadlines(detail::deadlines::make(executor))
        {
            std::error_code ec;
            tls_context.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                                        asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                                        asio::ssl::context::no_tlsv1_1,
                                    ec);
            // A configured CA is loaded now, so a wrong path fails at once. The system store is
            // loaded at the first TLS connection: parsing a few hundred certificates costs a
            // noticeable part of a second that plain-HTTP users should not pay.
            if (!options.ca_file.empty())
                tls_context.load_verify_file(options.ca_file, ec);
            else if (!options.ca_dir.empty())
                tls_context.add_verify_path(options.ca_dir, ec);
            else
                uses_system_store = true;
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

        // Where a new exchange runs: a strand of its own, or the transport's executor itself when
        // that runs on one thread only (https_options::single_threaded). An exchange on a pooled
        // connection runs where the connection's first exchange ran, and needs no new strand.
        executor_type exchange_executor() const
        {
            return options.single_threaded ? executor : executor_type(asio::make_strand(executor));
        }

        detail::pool pool;
        std::shared_ptr<detail::deadlines> deadlines;
        std::optional<error> config_error;

        bool uses_system_store = false;
        std::once_flag system_store_loaded;
        std::optional<error> system_store_error;

        // Before the first TLS handshake; safe from many threads at once.
        const std::optional<error>& trust_store_ready()
        {
            if (uses_system_store)
                std::call_once(system_store_loaded, [this] {
                    std::error_code ec;
                    tls_context.set_default_verify_paths(ec);
                    if (ec)
                        system_store_error = error{errc::invalid_configuration,
                                                   "could not load the system's TLS trust store: " + ec.message() +
                                                       " (set https_options::ca_file)"};
                });
            return system_store_error;
        }
    };

    // Which of the pool's queues a request goes to: scheme://host:port, made without allocating.
    using pool_key = llm::detail::small_string<48>;
    static pool_key key_of(const http::url& u)
    {
        pool_key key(u.scheme);
        key.append("://");
        u.append_host(key);
        u.append_port(key);
        return key;
    }

    using phase = detail::phase;
    using watchdog = detail::watchdog;

    static asio::awaitable<bool> cancelled()
    {
        auto cs = co_await asio::this_coro::cancellation_state;
        co_return cs.cancelled() != asio::cancellation_type::none;
    }

    // One request and its response on one connection: what async_send and response_stream
    // both drive. Its steps never run at once; destroyed mid-way, it closes its connection.
    struct exchange : std::enable_shared_from_this<exchange> {
        exchange(std::shared_ptr<state> shared, const http::request& r)
            : st(std::move(shared)), dog(st->deadlines), parser(st->options.limits)
        {
            if (st->config_error) {
                setup_error = *st->config_error;
                return;
            }
            std::error_code ec;
            auto parsed = http::parse_url(r.url, ec);
            if (!parsed) {
                setup_error = error{errc::bad_request, ec.message()};
                return;
            }
            target = std::move(*parsed);
            via = st->options.proxy.for_target(target, ec);
            if (ec) { // never echo the proxy URL: it may carry credentials
                setup_error = error{errc::invalid_configuration,
                                    "the proxy setting (HTTPS_PROXY/HTTP_PROXY) is not a valid http:// URL"};
                return;
            }
            key = key_of(target);
            std::error_code bad;
            if (via && !target.tls()) { // a forward proxy: absolute-form target, credentials for the proxy
                http::request proxied = r;
                if (!via->authorization.empty())
                    proxied.headers.add("Proxy-Authorization", via->authorization);
                bad = http::write_request(proxied, target, wire,
                                          target.scheme + "://" + target.authority() + target.target);
            } else {
                bad = http::write_request(r, target, wire);
            }
            if (via) { // connections through a proxy are pooled apart from direct ones
                pool_key direct = std::move(key);
                key = pool_key("via ");
                key.append(key_of(via->address)).append(" ").append(direct);
            }
            if (bad)
                setup_error = error{errc::bad_request, bad.message()};
        }
        exchange(const exchange&) = delete;
        exchange& operator=(const exchange&) = delete;
        ~exchange() { release(false); }

        // Chooses where the exchange runs, once, before its first step.
        void run_on(executor_type ex)
        {
            executor = std::move(ex);
            dog.run_on(executor);
        }

        // Gives the connection back to the pool (or closes it) once.
        void release(bool reusable)
        {
            dog.disarm();
            if (holds_slot) {
                holds_slot = false;
                st->pool.release(key, std::move(conn), reusable);
            }
        }

        // What the parser hands over: the head once, then body pieces until they are taken.
        struct sink_type {
            http::response head;
            bool head_done = false;
            std::string pending;
            void on_headers(int status, http::headers&& h)
            {
                head.status = status;
                head.headers = std::move(h);
                head_done = true;
            }
            void on_body(std::string_view piece) { pending.append(piece); }
        };

        std::shared_ptr<state> st;
        // Where the exchange runs (run_on): its steps never run at once there.
        executor_type executor;
        std::optional<error> setup_error; // from the request itself, reported by the first operation
        http::url target;
        std::optional<proxy_endpoint> via; // the proxy this exchange goes through, if any
        std::string wire;
        pool_key key;
        watchdog dog;
        std::unique_ptr<detail::connection> conn;
        bool holds_slot = false;
        bool started = false;
        int attempts = 0;             // connections the request was sent on: a second one is the last
        std::optional<error> failure; // how the body ended, if it failed: every later read says it again
        bool busy = false;            // a stream operation is running
        bool cancelled = false;       // the stream was cancelled
        http::response_parser parser;
        sink_type sink;
    };

    // Sends the request and reads up to the end of the response head.
    //
    // The path of a kept-alive exchange awaits Asio's operations directly, not through helper
    // coroutines: each nested coroutine is a frame allocated and freed on every request.
    static asio::awaitable<result<void>> start(exchange& x)
    {
        x.started = true;
        if (x.setup_error)
            co_return *x.setup_error;
        if (x.attempts == 0) // else the deadlines started with a try on a kept-alive connection
            begin(x);
        // A reused connection may have been closed by the server in the instant before we used it;
        // if nothing of the answer arrived, the request is sent once more on a fresh connection.
        while (x.attempts < 2) {
            ++x.attempts;
            detail::pool::lease lease;
            if (auto queued = x.st->pool.try_acquire(x.key, lease, x.executor)) {
                auto granted = co_await wait_for_slot(*x.st, x.key, std::move(queued));
                if (!granted)
                    co_return std::move(granted).error();
                lease = std::move(granted).value();
            }
            x.holds_slot = true;
            x.conn = std::move(lease.conn);
            const bool reused = x.conn != nullptr;
            if (!reused) {
                auto fresh = co_await connect(*x.st, x.target, x.via, x.dog);
                if (!fresh) {
                    x.release(false);
                    co_return std::move(fresh).error();
                }
                x.conn = std::move(fresh).value();
                x.conn->runs_on = x.executor; // its later exchanges run there too
            }
            x.parser = http::response_parser(x.st->options.limits);
            x.sink = {};
            arm_write(x);
            auto [write_ec, written] = co_await asio::async_write(*x.conn, asio::buffer(x.wire),
                                                                  asio::experimental::as_tuple(asio::use_awaitable));
            (void)written;
            result<void> sent = success();
            if (write_ec)
                sent = failure(x.dog, write_ec, "sending the request failed");
            while (sent && !x.sink.head_done) {
                if (is_cancelled(co_await asio::this_coro::cancellation_state)) { // between two steps
                    sent = cancelled_error();
                    break;
                }
                auto [ec, n] = co_await read_some(x);
                sent = took(x, ec, n);
            }
            if (sent)
                co_return success();
            const bool retry = reused && may_retry(x) && !co_await cancelled();
            x.release(false);
            if (!retry)
                co_return std::move(sent).error();
        }
        co_return error{errc::provider_unavailable, "the server closed the connection twice before answering"};
    }

    // The exchange's deadlines start: the total one now, the phases' as they come.
    static void begin(exchange& x)
    {
        x.dog.start(x.st->options.total_timeout, std::shared_ptr<watchdog>(x.shared_from_this(), &x.dog));
    }

    // Sending the request starts the wait for the first byte of the answer.
    static void arm_write(exchange& x) { x.dog.arm(phase::first_byte, x.st->options.first_byte_timeout, x.conn.get()); }

    // A read runs under the current phase's deadline: the first byte's until the answer starts,
    // the idle gap's after.
    static void arm_read(exchange& x)
    {
        if (x.parser.started())
            x.dog.arm(phase::idle, x.st->options.idle_timeout, x.conn.get());
        else if (x.dog.current() != phase::first_byte)
            x.dog.arm(phase::first_byte, x.st->options.first_byte_timeout, x.conn.get());
    }

    // One read from the connection; await it, then hand what it read to took().
    static asio::awaitable<std::tuple<std::error_code, std::size_t>> read_some(exchange& x)
    {
        arm_read(x);
        return x.conn->async_read_some(asio::buffer(x.conn->buffer), asio::experimental::as_tuple(asio::use_awaitable));
    }

    // Whether a request that failed on a reused connection may go again on another: not once
    // any of the answer arrived, nor after a deadline (the caller's cancellation is checked apart).
    static bool may_retry(const exchange& x) noexcept { return !x.parser.started() && !x.dog.fired(); }

    // What a read_some() brought, fed to the parser; an error if the response cannot go on.
    static result<void> took(exchange& x, std::error_code ec, std::size_t n)
    {
        x.dog.pause();
        if (n > 0) {
            std::error_code parse_ec;
            x.parser.put(std::string_view(x.conn->buffer.data(), n), x.sink, parse_ec);
            if (parse_ec)
                return error{errc::malformed_response, parse_ec.message()};
            if (x.parser.done())
                return success();
        }
        if (ec && x.dog.fired()) // it closed the connection: what the read saw (even an end) is its doing
            return x.dog.timeout();
        if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
            std::error_code end_ec;
            x.parser.finish(x.sink, end_ec);
            if (!end_ec)
                return success();
            if (!x.parser.started())
                return error{errc::provider_unavailable, "the server closed the connection without answering"};
            return error{errc::provider_unavailable, end_ec.message()};
        }
        if (ec)
            return failure(x.dog, ec, "reading the response failed");
        return success();
    }

    // The same for a read of the body.
    static void took_body(exchange& x, std::error_code ec, std::size_t n)
    {
        if (auto more = took(x, ec, n); !more)
            fail_body(x, std::move(more).error());
    }

    // The body ends in failure: the connection is closed, and every later read reports it again.
    static void fail_body(exchange& x, error e)
    {
        x.release(false);
        x.failure = std::move(e);
    }

    // A cancellation that came while no operation was pending (between two steps) is seen here,
    // before the next one starts. Awaiting the coroutine's cancellation state makes no frame.
    static bool is_cancelled(const asio::cancellation_state& cs) noexcept
    {
        return cs.cancelled() != asio::cancellation_type::none;
    }

    // A complete response gives its connection back for reuse, if the server allows it and no
    // deadline closed it in the meantime (a read may finish just as one fires).
    static void release_done(exchange& x) { x.release(x.parser.keep_alive() && !x.dog.fired()); }

    static error cancelled_error() { return {errc::cancelled, "the request was cancelled"}; }

    // Whether the body's next piece, its end or its failure is there to be taken.
    static bool piece_ready(const exchange& x) noexcept
    {
        return x.failure || !x.sink.pending.empty() || x.parser.done();
    }

    // The body's next piece once piece_ready(); nullopt at its end, when the connection goes
    // back to the pool.
    static result<std::optional<std::string>> take_piece(exchange& x)
    {
        if (x.failure)
            return *x.failure;
        if (x.parser.done())
            release_done(x);
        if (x.sink.pending.empty())
            return std::optional<std::string>{};
        return std::optional<std::string>{std::exchange(x.sink.pending, {})};
    }

    // async_send on a connection the pool kept alive, the common case, written as a callback
    // state machine: write the request, read until the response is complete. It is spared the
    // coroutine frames and the extra turns of the event loop that starting a coroutine costs
    // (a round trip on loopback is a few tens of microseconds, and these were a tenth of it).
    // Connecting, TLS, proxies and waiting for a connection stay with the coroutines, and so
    // does the one retry when the kept connection turns out closed before any answer.
    template <class Handler>
    class kept_alive_send {
    public:
        // x holds its connection and slot.
        static void start(std::shared_ptr<exchange> x, Handler handler)
        {
            // A deadline may fire as soon as it is armed, on the exchange's executor: the request
            // is sent from there too (at once when async_send is called there already).
            auto ex = x->executor;
            kept_alive_send op(std::move(x), std::move(handler));
            if (detail::running_in_this_thread(ex))
                op();
            else
                asio::dispatch(ex, std::move(op));
        }

        // The first step, on the exchange's executor: sends the request.
        void operator()()
        {
            auto& x = *x_;
            x.started = true;
            x.attempts = 1;
            begin(x);
            arm_write(x);
            auto& conn = *x.conn;
            const auto bytes = asio::buffer(x.wire);
            asio::async_write(conn, bytes, std::move(*this));
        }

        // Intermediate steps run where the exchange runs; memory is the handler's, and so is
        // cancellation, recorded so that one that comes between two steps stops the next.
        using executor_type = https::executor_type;
        executor_type get_executor() const noexcept { return executor_; }
        using cancellation_slot_type = asio::cancellation_slot;
        cancellation_slot_type get_cancellation_slot() const noexcept { return cancel_.slot(); }
        using allocator_type = asio::associated_allocator_t<Handler>;
        allocator_type get_allocator() const noexcept { return asio::get_associated_allocator(handler_); }

        // The request written (n ignored), or a read of the response done.
        void operator()(std::error_code ec, std::size_t n)
        {
            cancel_.slot().clear(); // the operation just done no longer answers a cancellation
            auto& x = *x_;
            result<void> step = success();
            if (writing_) {
                writing_ = false;
                if (ec)
                    step = failure(x.dog, ec, "sending the request failed");
            } else {
                step = took(x, ec, n);
            }
            const bool cancelled = is_cancelled(cancel_);
            if (step && !x.parser.done() && cancelled)
                step = cancelled_error();
            if (step && !x.parser.done()) {
                arm_read(x);
                auto& conn = *x.conn;
                conn.async_read_some(asio::buffer(conn.buffer), std::move(*this));
                return;
            }
            if (!step) {
                const bool retry = may_retry(x) && !cancelled;
                x.release(false);
                if (retry) {
                    llm::detail::spawn<http::response>(executor_, send_whole(std::move(x_)), std::move(handler_));
                    cancel_ = {}; // the coroutine took the handler's slot over, and freed what this pointed to
                    return;
                }
                return complete(std::move(step).error());
            }
            release_done(x);
            http::response whole = std::move(x.sink.head);
            whole.body = std::move(x.sink.pending); // the body gathered there as it arrived
            complete(std::move(whole));
        }

    private:
        using tracked_executor =
            std::decay_t<decltype(asio::prefer(std::declval<asio::associated_executor_t<Handler, executor_type>>(),
                                               asio::execution::outstanding_work.tracked))>;

        kept_alive_send(std::shared_ptr<exchange> x, Handler handler)
            : executor_(x->executor), x_(std::move(x)), handler_(std::move(handler)),
              handler_work_(asio::prefer(asio::get_associated_executor(handler_, executor_),
                                         asio::execution::outstanding_work.tracked)),
              cancel_(asio::get_associated_cancellation_slot(handler_))
        {
        }

        // On the handler's executor, as co_spawn would: inline when this already runs there.
        void complete(result<http::response> r)
        {
            x_.reset(); // the exchange ends before the caller hears of it, as a coroutine's frame would
            if (handler_runs_here(asio::get_associated_executor(handler_, executor_))) {
                auto work = std::move(handler_work_); // held until the handler returns, as dispatch would
                std::move(handler_)(std::move(r));
                return;
            }
            asio::dispatch(handler_work_,
                           [h = std::move(handler_), r = std::move(r)]() mutable { std::move(h)(std::move(r)); });
        }

        // Whether the handler's executor runs on this thread now: it is then called at once, as
        // dispatch would, without wrapping it in a type-erased function first. Only executors
        // an any_io_executor can hold are asked.
        static bool handler_runs_here(const auto& ex)
        {
            if constexpr (std::is_convertible_v<decltype(ex), const asio::any_io_executor&>)
                return detail::running_in_this_thread(ex);
            else
                return false;
        }

        executor_type executor_;
        std::shared_ptr<exchange> x_;
        Handler handler_;
        tracked_executor handler_work_;
        asio::cancellation_state cancel_; // terminal cancellation, as documented for async_send
        bool writing_ = true;
    };

    static asio::awaitable<std::optional<result<http::response>>> send_whole(std::shared_ptr<exchange> x)
    {
        co_await asio::this_coro::throw_if_cancelled(false);
        auto head = co_await start(*x);
        if (!head) {
            x->release(false);
            co_return std::move(head).error();
        }
        while (!x->failure && !x->parser.done()) { // the body gathers in the sink as it arrives
            if (is_cancelled(co_await asio::this_coro::cancellation_state)) {
                fail_body(*x, cancelled_error());
                break;
            }
            auto [ec, n] = co_await read_some(*x);
            took_body(*x, ec, n);
        }
        auto body = take_piece(*x);
        if (!body)
            co_return std::move(body).error();
        http::response whole = std::move(x->sink.head);
        if (body.value())
            whole.body = std::move(*body.value());
        co_return whole;
    }

    // Waits in the host's queue until a connection slot is granted (try_acquire found none free).
    static asio::awaitable<result<detail::pool::lease>> wait_for_slot(state& st, std::string_view key,
                                                                      std::shared_ptr<detail::pool::waiter> w)
    {
        auto [ec] = co_await w->wake.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        (void)ec; // woken by a grant or by cancellation: claim() tells which
        detail::pool::lease lease;
        if (st.pool.claim(key, w, co_await cancelled(), lease))
            co_return lease;
        co_return error{errc::cancelled, "cancelled while waiting for a connection"};
    }

    static asio::awaitable<result<std::unique_ptr<detail::connection>>>
    connect(state& st, const http::url& target, const std::optional<proxy_endpoint>& via, watchdog& dog)
    {
        const auto ex = co_await asio::this_coro::executor;
        auto conn = std::make_unique<detail::connection>(st.executor, st.tls_context, target.tls());
        const http::url& peer = via ? via->address : target;
        const std::string what = via ? "proxy " + peer.host : peer.host;
        asio::ip::tcp::resolver resolver(ex);
        dog.arm(phase::connect, st.options.connect_timeout, conn.get(), &resolver);
        auto [resolve_ec, endpoints] = co_await resolver.async_resolve(
            peer.host, std::to_string(peer.port), asio::experimental::as_tuple(asio::use_awaitable));
        if (resolve_ec)
            co_return failure(dog, resolve_ec, "could not resolve " + what);
        auto [connect_ec, endpoint] =
            co_await asio::async_connect(conn->socket(), endpoints, asio::experimental::as_tuple(asio::use_awaitable));
        (void)endpoint;
        if (connect_ec)
            co_return failure(dog, connect_ec, "could not connect to " + what + ":" + std::to_string(peer.port));
        std::error_code ignored;
        conn->socket().set_option(asio::ip::tcp::no_delay(true), ignored);
        conn->socket().non_blocking(true, ignored); // lets the pool peek at it with one system call
        if (via && target.tls()) {
            if (auto tunnel = co_await open_tunnel(*conn, target, *via, dog); !tunnel)
                co_return std::move(tunnel).error();
        }

        if (target.tls()) {
            if (const auto& unusable = st.trust_store_ready())
                co_return *unusable;
            auto& tls = conn->tls_stream();
            asio::error_code addr_ec;
            const bool is_address = (asio::ip::make_address(target.host, addr_ec), !addr_ec);
            // SNI, for names only (RFC 6066). SSL_set_tlsext_host_name is a macro with a C cast.
            if (!is_address && SSL_ctrl(tls.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                        const_cast<char*>(target.host.c_str())) != 1)
                co_return error{errc::internal_error, "could not set the TLS server name"};
            if (st.options.verify_peer)
                tls.set_verify_callback(asio::ssl::host_name_verification(target.host));
            dog.arm(phase::tls, st.options.tls_timeout, conn.get());
            auto [tls_ec] = co_await tls.async_handshake(asio::ssl::stream_base::client,
                                                         asio::experimental::as_tuple(asio::use_awaitable));
            if (tls_ec) {
                if (!dog.fired() && tls_ec.category() == asio::error::get_ssl_category())
                    co_return error{errc::tls_verification_failed,
                                    "TLS handshake with " + target.host + " failed: " + tls_ec.message()};
                co_return failure(dog, tls_ec, "TLS handshake with " + target.host + " failed");
            }
        }
        co_return conn;
    }

    // Asks the proxy for a tunnel to the target (CONNECT host:port), within the connect deadline.
    static asio::awaitable<result<void>> open_tunnel(detail::connection& conn, const http::url& target,
                                                     const proxy_endpoint& via, watchdog& dog)
    {
        const std::string tunnel_to = target.host_and_port();
        std::string ask = "CONNECT " + tunnel_to + " HTTP/1.1\r\nHost: " + tunnel_to + "\r\n";
        if (!via.authorization.empty())
            ask += "Proxy-Authorization: " + via.authorization + "\r\n";
        ask += "\r\n";
        auto& socket = conn.socket();
        auto [write_ec, written] =
            co_await asio::async_write(socket, asio::buffer(ask), asio::experimental::as_tuple(asio::use_awaitable));
        (void)written;
        if (write_ec)
            co_return failure(dog, write_ec, "sending CONNECT to the proxy failed");
        http::response_parser parser;
        parser.expect_no_body(); // a successful CONNECT answer has none; the tunnel follows
        http::buffered_response sink;
        std::array<char, 1024> buffer{};
        while (!parser.done()) {
            // One byte at a time: what follows the proxy's answer belongs to the tunnel.
            auto [read_ec, n] = co_await socket.async_read_some(asio::buffer(buffer.data(), 1),
                                                                asio::experimental::as_tuple(asio::use_awaitable));
            if (read_ec)
                co_return failure(dog, read_ec, "the proxy closed the connection during CONNECT");
            std::error_code parse_ec;
            parser.put(std::string_view(buffer.data(), n), sink, parse_ec);
            if (parse_ec)
                co_return error{errc::provider_unavailable, "the proxy's answer to CONNECT: " + parse_ec.message()};
        }
        if (sink.response.status / 100 != 2) {
            error refused{sink.response.status == 407 ? errc::unauthorized : errc::provider_unavailable,
                          "the proxy refused the tunnel to " + target.host + " (HTTP " +
                              std::to_string(sink.response.status) + ")"};
            refused.http_status = sink.response.status;
            co_return refused;
        }
        co_return success();
    }

    // An I/O failure, named by what caused it: our deadline, the caller's cancellation, or the network.
    static error failure(const watchdog& dog, std::error_code ec, const std::string& doing)
    {
        if (dog.fired())
            return dog.timeout();
        if (ec == asio::error::operation_aborted)
            return {errc::cancelled, doing + ": cancelled"};
        return {errc::provider_unavailable, doing + ": " + ec.message()};
    }

    std::shared_ptr<state> state_;
};

// A response read as it arrives: first its head, then its body piece by piece. Not for use
// from several threads at once; cancel() and the destructor may be called from anywhere.
class https::response_stream {
public:
    response_stream(response_stream&&) noexcept = default;
    response_stream& operator=(response_stream&& other) noexcept
    {
        if (this != &other) {
            cancel();
            x_ = std::move(other.x_);
        }
        return *this;
    }
    ~response_stream() { cancel(); }

    // Sends the request and reads the response's status and headers.
    //
    // @par Completion Signature
    //   void(llm::result<llm::http::response>), the body empty: read it with async_read_some.
    // @par Per-Operation Cancellation
    //   terminal: the connection is closed at once and the handler receives errc::cancelled.
    template <class Handler>
    void async_read_head(Handler&& handler)
    {
        auto ex = x_->executor;
        llm::detail::spawn<http::response>(ex, read_head(x_), std::forward<Handler>(handler));
    }

    // The next piece of the body, as it arrives; nullopt at the end, when the connection goes
    // back to the pool.
    //
    // @par Completion Signature
    //   void(llm::result<std::optional<std::string>>)
    // @par Per-Operation Cancellation
    //   terminal: the connection is closed at once and the handler receives errc::cancelled.
    template <class Handler>
    void async_read_some(Handler&& handler)
    {
        auto ex = x_->executor;
        llm::detail::spawn<std::optional<std::string>>(ex, read_piece(x_), std::forward<Handler>(handler));
    }

    // Closes the connection now: the server sees the request abandoned. A pending read
    // completes with errc::cancelled; later ones too.
    void cancel()
    {
        if (!x_)
            return;
        asio::post(x_->executor, [x = x_] {
            x->cancelled = true;
            if (x->conn)
                x->conn->close();
            if (!x->busy)
                x->release(false);
        });
    }

private:
    friend class https;
    explicit response_stream(std::shared_ptr<exchange> x) : x_(std::move(x)) {}

    // Marks the exchange busy while an operation runs, so cancel() leaves the clean-up to it.
    struct busy_scope {
        exchange& x;
        explicit busy_scope(exchange& e) : x(e) { x.busy = true; }
        ~busy_scope() { x.busy = false; }
    };

    static asio::awaitable<std::optional<result<http::response>>> read_head(std::shared_ptr<exchange> x)
    {
        co_await asio::this_coro::throw_if_cancelled(false);
        busy_scope busy(*x);
        if (x->cancelled || x->started)
            co_return error{x->cancelled ? errc::cancelled : errc::bad_request,
                            x->cancelled ? "the response stream was cancelled" : "async_read_head called twice"};
        auto head = co_await start(*x);
        if (!head) {
            x->release(false);
            x->failure = head.error();
            co_return std::move(head).error();
        }
        co_return x->sink.head;
    }

    static asio::awaitable<std::optional<result<std::optional<std::string>>>> read_piece(std::shared_ptr<exchange> x)
    {
        co_await asio::this_coro::throw_if_cancelled(false);
        busy_scope busy(*x);
        if (x->cancelled)
            co_return error{errc::cancelled, "the response stream was cancelled"};
        if (x->failure)
            co_return *x->failure;
        if (!x->started || !x->sink.head_done)
            co_return error{errc::bad_request, "async_read_some before a successful async_read_head"};
        while (!piece_ready(*x)) {
            if (is_cancelled(co_await asio::this_coro::cancellation_state)) {
                fail_body(*x, cancelled_error());
                break;
            }
            auto [ec, n] = co_await read_some(*x);
            took_body(*x, ec, n);
        }
        co_return take_piece(*x);
    }

    std::shared_ptr<exchange> x_;
};

inline https::response_stream https::open(const http::request& r)
{
    auto x = std::make_shared<exchange>(state_, r);
    x->run_on(state_->exchange_executor());
    return response_stream(std::move(x));
}

static_assert(http_transport<https>);

} // namespace llm::transport
