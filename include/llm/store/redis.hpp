// store::redis: counters shared by every replica of a service. Operations run as Lua scripts
// (EVALSHA, each touching one key), so concurrent replicas never race; every call of every
// coroutine goes down one pipelined connection, on the caller's Asio executor, with no thread
// of its own. The connection is opened on first use and again after it is lost (a Redis
// restart): calls in flight then fail with errc::store_unavailable, and the policies decide
// whether that refuses the call (fail closed, the default) or admits it (fail open).
// Link llm::redis to use it (hiredis parses the replies).
#pragma once

#include <llm/store/store.hpp>

#include <asio/associated_executor.hpp>              // where a caller resumes
#include <asio/async_result.hpp>                     // async_initiate
#include <asio/co_spawn.hpp>                         // the connection's loops
#include <asio/connect.hpp>                          // async_connect
#include <asio/detached.hpp>                         // the connection's loops
#include <asio/execution/outstanding_work.hpp>       // a caller's executor kept busy while it waits
#include <asio/experimental/as_tuple.hpp>            // errors as values
#include <asio/experimental/awaitable_operators.hpp> // connect or time out
#include <asio/ip/tcp.hpp>                           // socket, resolver
#include <asio/post.hpp>                             // handing replies back
#include <asio/prefer.hpp>                           // outstanding_work.tracked
#include <asio/steady_timer.hpp>                     // timeouts
#include <asio/strand.hpp>                           // one connection, many threads
#include <asio/use_awaitable.hpp>                    // exec
#include <asio/write.hpp>                            // async_write

#include <hiredis/hiredis.h>
#include <openssl/sha.h>

#include <charconv> // to_chars: numbers in commands
#include <cstdio>   // snprintf: the SHA-1 in hex
#include <deque>    // calls waiting for replies
#include <memory>   // shared state
#include <string>   // commands
#include <vector>   // replies

namespace llm::store {

struct redis_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 6379;
    std::string password; // AUTH, when set; never appears in errors
    std::string username; // ACL user, with password
    int database = 0;     // SELECT, when not 0
    std::chrono::milliseconds connect_timeout{1000};
    // A call without its reply this long fails with store_unavailable. Replies come in order, so
    // the calls behind it fail too and the connection is dropped; the next call opens another.
    std::chrono::milliseconds command_timeout{1000};
};

class redis {
public:
    using executor_type = asio::any_io_executor;

    // One Redis value of a reply: what the store reads of hiredis's tree.
    struct reply {
        enum class kind { integer, text, array, nil, error } type = kind::nil;
        std::int64_t integer = 0;
        std::string text; // a bulk or status string, or the error's message
        std::vector<reply> elements;
    };

    redis(executor_type ex, redis_options options = {})
        : owner_(std::make_shared<owner>(std::make_shared<state>(std::move(ex), std::move(options))))
    {
    }

    executor_type get_executor() const noexcept { return owner_->s->strand.get_inner_executor(); }

    template <store_operation Op>
    asio::awaitable<result<outcomes<typename Op::outcome>>> apply(std::span<const step<Op>> batch, time_point now) const
    {
        // The steps are copied: the caller's span need not outlive the first suspension.
        std::vector<step<Op>> steps(batch.begin(), batch.end());
        const auto& sc = script_of<Op>();
        std::vector<std::optional<typename Op::outcome>> got(steps.size());
        std::vector<std::size_t> todo(steps.size());
        for (std::size_t i = 0; i < todo.size(); ++i)
            todo[i] = i;
        // EVALSHA first; a server that does not know the script yet (a fresh or restarted one)
        // answers NOSCRIPT, and those steps are sent again with the script itself.
        for (bool full_script : {false, true}) {
            std::string commands;
            for (const auto i : todo)
                commands += eval(steps[i], now, sc, full_script);
            auto replies = co_await exec(std::move(commands), todo.size());
            if (!replies)
                co_return std::move(replies).error();
            std::vector<std::size_t> again;
            for (std::size_t k = 0; k < todo.size(); ++k) {
                const auto& r = replies.value()[k];
                if (!full_script && r.type == reply::kind::error && r.text.starts_with("NOSCRIPT")) {
                    again.push_back(todo[k]);
                    continue;
                }
                auto outcome = decode<Op>(r);
                if (!outcome)
                    co_return std::move(outcome).error();
                got[todo[k]] = std::move(outcome).value();
            }
            todo = std::move(again);
            if (todo.empty())
                break;
        }
        outcomes<typename Op::outcome> done;
        for (auto& o : got)
            done.push_back(std::move(*o));
        co_return done;
    }

    asio::awaitable<result<std::optional<std::string>>> get(std::string_view key, time_point) const
    {
        // A named command, not a braced temporary inside co_await: g++ 12 miscompiles those.
        std::string get_command = command({std::string_view("GET"), key});
        auto replies = co_await exec(std::move(get_command), 1);
        if (!replies)
            co_return std::move(replies).error();
        const auto& r = replies.value().front();
        if (r.type == reply::kind::nil)
            co_return std::optional<std::string>{};
        if (r.type != reply::kind::text)
            co_return unexpected("GET", r);
        co_return std::optional<std::string>{r.text};
    }

    asio::awaitable<result<void>> put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl,
                                      time_point) const
    {
        const auto ms = std::to_string(ttl.count());
        std::string put_command = ttl.count() > 0 ? command({std::string_view("SET"), key, value, "PX", ms})
                                                  : command({std::string_view("DEL"), key});
        auto replies = co_await exec(std::move(put_command), 1);
        if (!replies)
            co_return std::move(replies).error();
        if (replies.value().front().type == reply::kind::error)
            co_return unexpected("SET", replies.value().front());
        co_return success();
    }

    // Sends raw commands (RESP, see command()) and returns their `count` replies; for tools
    // and tests. A failure is errc::store_unavailable.
    asio::awaitable<result<std::vector<reply>>> exec(std::string commands, std::size_t count) const
    {
        auto s = owner_->s;
        // Named, not a temporary inside co_await: g++ 12 destroys such temporaries twice, and this
        // one holds a reference count.
        auto initiate = [s, count](auto handler, std::string sending) {
            asio::post(s->strand,
                       [s, count, sending = std::move(sending), w = make_waiter(std::move(handler))]() mutable {
                           s->submit(std::move(sending), count, std::move(w));
                       });
        };
        answer got = co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(answer)>(
            std::move(initiate), asio::use_awaitable, std::move(commands));
        if (got.failure)
            co_return std::move(*got.failure);
        co_return std::move(got.replies);
    }

    // One command in RESP, the protocol's own framing: an array of bulk strings.
    static std::string command(std::initializer_list<std::string_view> args)
    {
        std::string out = "*" + std::to_string(args.size()) + "\r\n";
        for (auto a : args)
            append_bulk(out, a);
        return out;
    }

private:
    // What the connection hands a caller: its replies, or why there are none.
    struct answer {
        std::vector<reply> replies;
        std::optional<error> failure;
    };

    // A caller waiting for its replies: completed once, on the caller's own executor, which it
    // keeps from running out of work meanwhile.
    struct waiter {
        virtual ~waiter() = default;
        virtual void complete(answer a) = 0;
    };

    template <class Handler>
    struct waiter_for final : waiter {
        explicit waiter_for(Handler h)
            : handler(std::move(h)),
              work(asio::prefer(asio::get_associated_executor(handler), asio::execution::outstanding_work.tracked))
        {
        }
        void complete(answer a) override
        {
            asio::post(work, [h = std::move(handler), a = std::move(a)]() mutable { std::move(h)(std::move(a)); });
        }
        Handler handler;
        decltype(asio::prefer(asio::get_associated_executor(std::declval<Handler&>()),
                              asio::execution::outstanding_work.tracked)) work;
    };

    template <class Handler>
    static std::unique_ptr<waiter> make_waiter(Handler h)
    {
        return std::make_unique<waiter_for<Handler>>(std::move(h));
    }

    using clock = std::chrono::steady_clock;

    struct waiting {
        std::size_t count;
        std::vector<reply> replies;
        std::unique_ptr<waiter> caller; // none for the greeting (AUTH, SELECT)
        clock::time_point deadline;
    };

    // Everything lives on the strand: the socket, the queue of callers, the reader.
    struct state : std::enable_shared_from_this<state> {
        state(executor_type ex, redis_options o)
            : strand(asio::make_strand(std::move(ex))), options(std::move(o)), watchdog(strand)
        {
        }
        ~state()
        {
            if (reader)
                redisReaderFree(reader);
        }

        asio::strand<executor_type> strand;
        redis_options options;
        std::optional<asio::ip::tcp::socket> socket;
        bool connecting = false;
        bool writing = false;
        bool closed = false;
        std::string outbox;
        std::deque<waiting> queue;
        redisReader* reader = nullptr;
        // Replies come in order, so only the oldest call's deadline matters: when it passes, the
        // server is stuck or gone, and every call behind it would wait as long.
        asio::steady_timer watchdog;
        bool watching = false;

        std::string where() const { return "store::redis " + options.host + ":" + std::to_string(options.port); }

        void submit(std::string commands, std::size_t count, std::unique_ptr<waiter> caller)
        {
            if (closed) {
                caller->complete(answer{{}, error{errc::store_unavailable, where() + ": the store was closed"}});
                return;
            }
            outbox += commands;
            queue.push_back({count, {}, std::move(caller), clock::now() + options.command_timeout});
            watch();
            if (socket)
                flush();
            else if (!connecting)
                asio::co_spawn(strand, connect(shared_from_this()), asio::detached);
        }

        // Arms the watchdog for the oldest call, unless it is armed already.
        void watch()
        {
            if (watching || queue.empty())
                return;
            watching = true;
            watchdog.expires_at(queue.front().deadline);
            // Weak: a watchdog must not keep a closed store alive for its last timeout.
            watchdog.async_wait([weak = weak_from_this()](std::error_code) {
                const auto self = weak.lock();
                if (!self)
                    return;
                self->watching = false;
                if (self->queue.empty())
                    return;
                if (clock::now() >= self->queue.front().deadline)
                    return self->lost("no reply within " + std::to_string(self->options.command_timeout.count()) +
                                      " ms");
                self->watch();
            });
        }

        static asio::awaitable<void> connect(std::shared_ptr<state> self)
        {
            self->connecting = true;
            auto error_of = [&](std::string what) {
                return error{errc::store_unavailable, self->where() + ": " + what};
            };
            asio::ip::tcp::resolver resolver(self->strand);
            auto [rec, endpoints] =
                co_await resolver.async_resolve(self->options.host, std::to_string(self->options.port),
                                                asio::experimental::as_tuple(asio::use_awaitable));
            if (rec) {
                self->fail_all(error_of("cannot resolve the host: " + rec.message()));
                co_return;
            }
            asio::ip::tcp::socket sock(self->strand);
            using namespace asio::experimental::awaitable_operators;
            asio::steady_timer deadline(self->strand, self->options.connect_timeout);
            auto first =
                co_await (asio::async_connect(sock, endpoints, asio::experimental::as_tuple(asio::use_awaitable)) ||
                          deadline.async_wait(asio::experimental::as_tuple(asio::use_awaitable)));
            if (first.index() == 1) {
                self->fail_all(
                    error_of("cannot connect within " + std::to_string(self->options.connect_timeout.count()) + " ms"));
                co_return;
            }
            if (auto ec = std::get<0>(std::get<0>(first))) {
                self->fail_all(error_of("cannot connect: " + ec.message()));
                co_return;
            }
            sock.set_option(asio::ip::tcp::no_delay(true));
            self->socket.emplace(std::move(sock));
            if (self->reader)
                redisReaderFree(self->reader);
            self->reader = redisReaderCreate();
            self->connecting = false;
            self->greet();
            self->flush();
            asio::co_spawn(self->strand, read(self), asio::detached);
        }

        // AUTH and SELECT go first, as calls whose replies nobody awaits.
        void greet()
        {
            std::string hello;
            std::size_t count = 0;
            if (!options.password.empty()) {
                hello += options.username.empty() ? command({"AUTH", options.password})
                                                  : command({"AUTH", options.username, options.password});
                ++count;
            }
            if (options.database != 0) {
                hello += command({"SELECT", std::to_string(options.database)});
                ++count;
            }
            if (count == 0)
                return;
            outbox.insert(0, hello);
            queue.push_front({count, {}, nullptr, clock::now() + options.command_timeout});
        }

        void flush()
        {
            if (writing || outbox.empty() || !socket)
                return;
            writing = true;
            asio::co_spawn(strand, write(shared_from_this()), asio::detached);
        }

        static asio::awaitable<void> write(std::shared_ptr<state> self)
        {
            while (!self->outbox.empty() && self->socket) {
                std::string sending;
                sending.swap(self->outbox);
                auto [ec, n] = co_await asio::async_write(*self->socket, asio::buffer(sending),
                                                          asio::experimental::as_tuple(asio::use_awaitable));
                if (ec) {
                    self->lost("cannot send: " + ec.message());
                    break;
                }
            }
            self->writing = false;
        }

        static asio::awaitable<void> read(std::shared_ptr<state> self)
        {
            char buffer[16 * 1024];
            while (self->socket) {
                auto [ec, n] = co_await self->socket->async_read_some(
                    asio::buffer(buffer), asio::experimental::as_tuple(asio::use_awaitable));
                if (ec) {
                    self->lost(ec == asio::error::eof ? "the server closed the connection" : ec.message());
                    co_return;
                }
                if (redisReaderFeed(self->reader, buffer, n) != REDIS_OK) {
                    self->lost("unreadable reply");
                    co_return;
                }
                for (;;) {
                    void* raw = nullptr;
                    if (redisReaderGetReply(self->reader, &raw) != REDIS_OK) {
                        self->lost(std::string("unreadable reply: ") + self->reader->errstr);
                        co_return;
                    }
                    if (!raw)
                        break;
                    auto r = convert(*static_cast<redisReply*>(raw));
                    freeReplyObject(raw);
                    self->deliver(std::move(r));
                }
            }
        }

        void deliver(reply r)
        {
            if (queue.empty())
                return; // a reply nobody asked for: cannot happen with a well-behaved server
            auto& w = queue.front();
            w.replies.push_back(std::move(r));
            if (w.replies.size() < w.count)
                return;
            if (w.caller)
                w.caller->complete(answer{std::move(w.replies), std::nullopt});
            else if (w.replies.front().type == reply::kind::error)
                // AUTH or SELECT refused: nothing can work on this connection.
                return lost_after_greeting("the server refused AUTH or SELECT: " + w.replies.front().text);
            queue.pop_front();
            if (queue.empty())
                watchdog.cancel(); // nothing to wait for: leave the executor free to run out of work
        }

        void lost_after_greeting(std::string why)
        {
            queue.pop_front();
            lost(std::move(why));
        }

        // The connection is gone: every waiting call fails, and the next one reconnects.
        void lost(std::string why)
        {
            if (socket) {
                std::error_code ignored;
                socket->close(ignored);
                socket.reset();
            }
            outbox.clear();
            fail_all(error{errc::store_unavailable, where() + ": " + why});
        }

        void fail_all(const error& e)
        {
            connecting = false;
            auto waiting_calls = std::move(queue);
            queue.clear();
            watchdog.cancel();
            for (auto& w : waiting_calls)
                if (w.caller)
                    w.caller->complete(answer{{}, e});
        }

        void close()
        {
            closed = true;
            lost("the store was closed");
        }
    };

    // Closes the connection when the last copy of the handle goes, though its loops still run.
    struct owner {
        explicit owner(std::shared_ptr<state> st) : s(std::move(st)) {}
        owner(const owner&) = delete;
        owner& operator=(const owner&) = delete;
        ~owner()
        {
            asio::post(s->strand, [s = s] { s->close(); });
        }
        std::shared_ptr<state> s;
    };

    static reply convert(const redisReply& r)
    {
        reply out;
        switch (r.type) {
        case REDIS_REPLY_INTEGER:
            out.type = reply::kind::integer;
            out.integer = r.integer;
            break;
        case REDIS_REPLY_STRING:
        case REDIS_REPLY_STATUS:
            out.type = reply::kind::text;
            out.text.assign(r.str, r.len);
            break;
        case REDIS_REPLY_ERROR:
            out.type = reply::kind::error;
            out.text.assign(r.str, r.len);
            break;
        case REDIS_REPLY_ARRAY:
            out.type = reply::kind::array;
            for (std::size_t i = 0; i < r.elements; ++i)
                out.elements.push_back(convert(*r.element[i]));
            break;
        default:
            break;
        }
        return out;
    }

    static void append_bulk(std::string& out, std::string_view arg)
    {
        char length[24];
        const auto end = std::to_chars(length, length + sizeof length, arg.size()).ptr;
        out += '$';
        out.append(length, end);
        out += "\r\n";
        out.append(arg);
        out += "\r\n";
    }

    // The script each operation runs, with its SHA-1 for EVALSHA.
    struct script {
        std::string text;
        std::string sha1;
    };

    template <class Op>
    static const script& script_of()
    {
        static const script s = [] {
            script out{std::string(lua_prelude) + std::string(Op::script), {}};
            unsigned char digest[SHA_DIGEST_LENGTH];
            SHA1(reinterpret_cast<const unsigned char*>(out.text.data()), out.text.size(), digest);
            char hex[2 * SHA_DIGEST_LENGTH + 1];
            for (int i = 0; i < SHA_DIGEST_LENGTH; ++i)
                std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
            out.sha1.assign(hex, 2 * SHA_DIGEST_LENGTH);
            return out;
        }();
        return s;
    }

    template <class Op>
    static std::string eval(const step<Op>& s, time_point now, const script& sc, bool full_script)
    {
        // Numbers in their shortest form that reads back exactly (to_chars: several times faster
        // than printf's %.17g, which was a third of a check's time).
        std::string numbers;
        std::size_t count = 0;
        auto number = [&](double v) {
            char text[32];
            const auto end = std::to_chars(text, text + sizeof text, v).ptr;
            append_bulk(numbers, std::string_view(text, static_cast<std::size_t>(end - text)));
            ++count;
        };
        number(milliseconds_of(now));
        s.op.arguments(number);
        std::string out = "*" + std::to_string(4 + count) + "\r\n";
        append_bulk(out, full_script ? "EVAL" : "EVALSHA");
        append_bulk(out, full_script ? sc.text : sc.sha1);
        append_bulk(out, "1");
        append_bulk(out, s.key);
        out += numbers;
        return out;
    }

    template <class Op>
    static result<typename Op::outcome> decode(const reply& r)
    {
        if (r.type == reply::kind::error)
            return fail(errc::store_unavailable, "store::redis: the script failed: " + r.text);
        if (r.type != reply::kind::array)
            return unexpected("EVALSHA", r);
        std::vector<std::int64_t> numbers;
        for (const auto& e : r.elements) {
            if (e.type != reply::kind::integer)
                return unexpected("EVALSHA", r);
            numbers.push_back(e.integer);
        }
        return Op::decode(numbers);
    }

    static error unexpected(const char* what, const reply& r)
    {
        return error{errc::store_unavailable, std::string("store::redis: unexpected reply to ") + what +
                                                  (r.type == reply::kind::error ? ": " + r.text : std::string())};
    }

    std::shared_ptr<owner> owner_;
};

static_assert(store_backend<redis>);

} // namespace llm::store
