// store::redis: counters shared by every replica of a service. Operations run as Lua scripts
// (EVALSHA), so concurrent replicas never race; every call of every coroutine goes down one
// pipelined connection, on the caller's Asio executor, with no thread of its own. Steps that
// wait at the same moment share one script call: a script call costs the server more than a
// step does, and this is what lets one connection carry 100k checks a second. The connection is
// opened on first use and again after it is lost (a Redis restart): calls in flight then fail
// with errc::store_unavailable, and the policies decide whether that refuses the call (fail
// closed, the default) or admits it (fail open). Link llm::redis to use it (hiredis parses the
// replies).
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

#include <algorithm>    // std::clamp
#include <bit>          // bit_cast: doubles on the wire
#include <charconv>     // to_chars: numbers in commands
#include <cmath>        // std::floor: whole counts
#include <cstdio>       // snprintf: the SHA-1 in hex
#include <deque>        // calls waiting for replies
#include <memory>       // shared state
#include <string>       // commands
#include <system_error> // a bad max_batch
#include <vector>       // replies

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
    // At most this many steps (keys) in one script call, 1 to 1024. A script holds the server for
    // its whole run, some microseconds a step; 1 sends every step in a script call of its own.
    std::size_t max_batch = 64;
    // Redis Cluster, and the proxies in front of one, refuse a script whose keys lie in different
    // hash slots. Set this when the server is one, and a script call then joins only the keys of
    // one slot (the keys of one identity share a slot: see scoped_key).
    bool cluster = false;
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

    // Throws std::system_error (errc::invalid_configuration) for a max_batch outside 1..1024.
    redis(executor_type ex, redis_options options = {})
        : owner_(std::make_shared<owner>(std::make_shared<state>(std::move(ex), checked(std::move(options)))))
    {
    }

    executor_type get_executor() const noexcept { return owner_->s->strand.get_inner_executor(); }

    template <store_operation Op>
    asio::awaitable<result<outcomes<typename Op::outcome>>> apply(std::span<const step<Op>> batch, time_point now) const
    {
        // Each step's key and arguments are written out now: the caller's span need not outlive
        // the first suspension.
        std::vector<script_step> steps;
        steps.reserve(batch.size());
        const double ms = milliseconds_of(now);
        const bool cluster = owner_->s->options.cluster;
        for (const auto& st : batch)
            steps.push_back(script_step_of(st, ms, cluster));
        auto replies = co_await run(script_of<Op>(), std::move(steps));
        if (!replies)
            co_return std::move(replies).error();
        outcomes<typename Op::outcome> done;
        for (const auto& r : replies.value()) {
            if (r.failure)
                co_return *r.failure;
            auto outcome = Op::decode(std::span<const std::int64_t>(r.numbers.begin(), r.numbers.size()));
            if (!outcome)
                co_return std::move(outcome).error();
            done.push_back(std::move(outcome).value());
        }
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
        auto submit = [count, commands = std::move(commands)](state& st, auto caller) mutable {
            st.submit(std::move(commands), count, std::move(caller));
        };
        auto got = co_await answered<answer<std::vector<reply>>>(std::move(submit));
        if (got.failure)
            co_return std::move(*got.failure);
        co_return std::move(got.replies);
    }

    // The hash slot of a key in Redis Cluster: CRC16 (XMODEM) of its hash tag (the text between
    // the first '{' and the next '}', when not empty) or of the whole key, modulo 16384.
    static std::uint16_t slot_of(std::string_view key) noexcept
    {
        if (const auto open = key.find('{'); open != std::string_view::npos) {
            const auto close = key.find('}', open + 1);
            if (close != std::string_view::npos && close > open + 1)
                key = key.substr(open + 1, close - open - 1);
        }
        std::uint16_t crc = 0;
        for (const char ch : key) {
            crc ^= static_cast<std::uint16_t>(static_cast<unsigned char>(ch) << 8);
            for (int bit = 0; bit < 8; ++bit)
                crc = static_cast<std::uint16_t>(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
        }
        return static_cast<std::uint16_t>(crc % 16384);
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
    template <class Replies>
    struct answer {
        Replies replies;
        std::optional<error> failure;
    };

    // A caller waiting for its answer: completed once, on the caller's own executor, which it
    // keeps from running out of work meanwhile.
    template <class Answer>
    struct waiter {
        virtual ~waiter() = default;
        virtual void complete(Answer a) = 0;
    };

    template <class Answer, class Handler>
    struct waiter_for final : waiter<Answer> {
        explicit waiter_for(Handler h)
            : handler(std::move(h)),
              work(asio::prefer(asio::get_associated_executor(handler), asio::execution::outstanding_work.tracked))
        {
        }
        void complete(Answer a) override
        {
            asio::post(work, [h = std::move(handler), a = std::move(a)]() mutable { std::move(h)(std::move(a)); });
        }
        Handler handler;
        decltype(asio::prefer(asio::get_associated_executor(std::declval<Handler&>()),
                              asio::execution::outstanding_work.tracked)) work;
    };

    // Hands submit(state&, waiter) to the connection's strand and awaits the answer.
    template <class Answer, class Submit>
    asio::awaitable<Answer> answered(Submit submit) const
    {
        auto s = owner_->s;
        // Named, not a temporary inside co_await: g++ 12 destroys such temporaries twice, and this
        // one holds a reference count.
        auto initiate = [s](auto handler, Submit sub) {
            std::unique_ptr<waiter<Answer>> caller =
                std::make_unique<waiter_for<Answer, decltype(handler)>>(std::move(handler));
            asio::post(s->strand,
                       [s, sub = std::move(sub), caller = std::move(caller)]() mutable { sub(*s, std::move(caller)); });
        };
        co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(Answer)>(
            std::move(initiate), asio::use_awaitable, std::move(submit));
    }

    // The script each operation runs, with its SHA-1 for EVALSHA.
    struct script {
        std::string text;
        std::string sha1;
    };

    // One step of an apply(), ready to join a script call: its key, and its arguments (now, then
    // the operation's own) packed as little-endian doubles, which the script unpacks in one call.
    struct script_step {
        key_text key;
        std::string arguments;
        std::uint16_t slot = 0; // cluster mode only
    };

    // What one step's script answered: its numbers, or why there are none.
    struct step_reply {
        llm::detail::inline_vector<std::int64_t, 8> numbers;
        std::optional<error> failure;
    };

    using exec_waiter = std::unique_ptr<waiter<answer<std::vector<reply>>>>;
    using steps_waiter = std::unique_ptr<waiter<answer<std::vector<step_reply>>>>;

    // An apply() waiting for its steps' replies, which may come from several script calls.
    struct script_call {
        const script* runs;
        std::vector<script_step> steps;
        std::vector<step_reply> replies;
        std::size_t missing;
        steps_waiter caller; // reset once answered, or failed
    };

    // Step `step` of a call, in a script call.
    struct part {
        std::shared_ptr<script_call> call;
        std::size_t step;
        const script_step& of() const { return call->steps[step]; }
    };

    asio::awaitable<result<std::vector<step_reply>>> run(const script& sc, std::vector<script_step> steps) const
    {
        if (steps.empty())
            co_return std::vector<step_reply>{};
        auto submit = [&sc, steps = std::move(steps)](state& st, steps_waiter caller) mutable {
            st.submit(sc, std::move(steps), std::move(caller));
        };
        auto got = co_await answered<answer<std::vector<step_reply>>>(std::move(submit));
        if (got.failure)
            co_return std::move(*got.failure);
        co_return std::move(got.replies);
    }

    using clock = std::chrono::steady_clock;

    // Commands sent and not yet answered, in the order sent: an exec() call (`caller`), a script
    // call (`parts`, one reply: see answer_parts), or the greeting (neither).
    struct waiting {
        std::size_t count;
        std::vector<reply> replies;
        exec_waiter caller;
        std::vector<part> parts;
        bool full_script = false; // sent as EVAL, after the server answered NOSCRIPT
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
        // Steps submitted in this turn of the strand, sent together when it ends.
        std::vector<part> pending;
        bool sending_posted = false;
        redisReader* reader = nullptr;
        // Replies come in order, so only the oldest call's deadline matters: when it passes, the
        // server is stuck or gone, and every call behind it would wait as long.
        asio::steady_timer watchdog;
        bool watching = false;

        std::string where() const { return "store::redis " + options.host + ":" + std::to_string(options.port); }

        void submit(std::string commands, std::size_t count, exec_waiter caller)
        {
            if (closed) {
                caller->complete({{}, error{errc::store_unavailable, where() + ": the store was closed"}});
                return;
            }
            outbox += commands;
            queue.push_back({count, {}, std::move(caller), {}, false, clock::now() + options.command_timeout});
            send();
        }

        void send()
        {
            watch();
            if (socket)
                flush();
            else if (!connecting)
                asio::co_spawn(strand, connect(shared_from_this()), asio::detached);
        }

        // Steps wait until the strand has run what is already queued on it, other callers'
        // submissions among them, and then go as few script calls as max_batch and the slots
        // allow. A lone call waits for nothing but that one turn.
        void submit(const script& sc, std::vector<script_step> steps, steps_waiter caller)
        {
            if (closed) {
                caller->complete({{}, error{errc::store_unavailable, where() + ": the store was closed"}});
                return;
            }
            const auto n = steps.size();
            auto call = std::make_shared<script_call>(script_call{&sc, std::move(steps), {}, n, std::move(caller)});
            call->replies.resize(n);
            for (std::size_t i = 0; i < n; ++i)
                pending.push_back({call, i});
            if (sending_posted)
                return;
            sending_posted = true;
            asio::post(strand, [self = shared_from_this()] { self->send_pending(); });
        }

        void send_pending()
        {
            sending_posted = false;
            if (pending.empty())
                return;
            auto left = std::move(pending);
            pending.clear();
            // Each round takes the first step left and every later one that may share its script
            // call, up to max_batch; the others wait for the next round. Usually one round.
            while (!left.empty()) {
                std::vector<part> batch;
                std::vector<part> later;
                const auto* runs = left.front().call->runs;
                const auto slot = left.front().of().slot;
                for (auto& p : left) {
                    if (batch.size() < options.max_batch && p.call->runs == runs && p.of().slot == slot)
                        batch.push_back(std::move(p));
                    else
                        later.push_back(std::move(p));
                }
                enqueue(std::move(batch), false);
                left = std::move(later);
            }
            send();
        }

        // One script call: EVALSHA (or EVAL) script numkeys key... then each step's arguments.
        void enqueue(std::vector<part> batch, bool full_script)
        {
            const auto& sc = *batch.front().call->runs;
            char count[24];
            outbox += '*';
            outbox.append(count, std::to_chars(count, count + sizeof count, 3 + 2 * batch.size()).ptr);
            outbox += "\r\n";
            append_bulk(outbox, full_script ? "EVAL" : "EVALSHA");
            append_bulk(outbox, full_script ? sc.text : sc.sha1);
            append_bulk(outbox, std::string_view(count, std::to_chars(count, count + sizeof count, batch.size()).ptr));
            for (const auto& p : batch)
                append_bulk(outbox, p.of().key);
            for (const auto& p : batch)
                append_bulk(outbox, p.of().arguments);
            queue.push_back({1, {}, nullptr, std::move(batch), full_script, clock::now() + options.command_timeout});
        }

        // A script call's reply (see lua_steps): {numbers, error...}, where numbers holds, step
        // after step, how many numbers the step answered and those numbers, as little-endian
        // doubles; a step that failed has -1 for its count, and its error is the array's next.
        // A reply of another shape, or an error for the whole call, fails each of its steps.
        void answer_parts(std::vector<part> parts, reply r, bool full_script)
        {
            if (!full_script && r.type == reply::kind::error && r.text.starts_with("NOSCRIPT")) {
                // A fresh or restarted server: the same call again, with the script itself.
                enqueue(std::move(parts), true);
                return send();
            }
            const bool shaped =
                r.type == reply::kind::array && !r.elements.empty() && r.elements[0].type == reply::kind::text;
            const std::string_view numbers = shaped ? std::string_view(r.elements[0].text) : std::string_view();
            std::size_t at = 0;
            std::size_t next_error = 1;
            const auto next_number = [&](double& v) {
                if (numbers.size() - at < 8)
                    return false;
                v = unpack_double(numbers.data() + at);
                at += 8;
                return true;
            };
            bool broken = !shaped; // once a count is wrong, nothing after it can be read
            for (auto& p : parts) {
                step_reply got;
                double count = 0;
                if (r.type == reply::kind::error) {
                    got.failure = script_failed(r.text);
                } else if (broken || !next_number(count)) {
                    broken = true;
                } else if (count == -1) {
                    const bool known =
                        next_error < r.elements.size() && r.elements[next_error].type == reply::kind::error;
                    if (known)
                        got.failure = script_failed(r.elements[next_error].text);
                    broken = !known;
                    ++next_error;
                } else if (!(count >= 0 && count <= static_cast<double>(got.numbers.capacity())) ||
                           count != std::floor(count)) {
                    broken = true; // not a count an outcome can have (NaN, a fraction, too many)
                } else {
                    double v = 0;
                    for (auto n = static_cast<std::size_t>(count); n > 0 && !broken; --n) {
                        broken = !next_number(v); // the numbers ended early
                        got.numbers.push_back(integer_of(v));
                    }
                }
                if (broken)
                    got.failure = unexpected("EVALSHA", r);
                give(p, std::move(got));
            }
        }

        // A step's reply to its call, which is answered once its last step has one.
        static void give(const part& p, step_reply got)
        {
            auto& call = *p.call;
            if (!call.caller)
                return; // failed already, through another of its script calls
            call.replies[p.step] = std::move(got);
            if (--call.missing == 0) {
                call.caller->complete({std::move(call.replies), std::nullopt});
                call.caller.reset();
            }
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
            queue.push_front({count, {}, nullptr, {}, false, clock::now() + options.command_timeout});
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
            queue.front().replies.push_back(std::move(r));
            if (queue.front().replies.size() < queue.front().count)
                return;
            auto w = std::move(queue.front());
            queue.pop_front();
            if (queue.empty())
                watchdog.cancel(); // nothing to wait for: leave the executor free to run out of work
            if (!w.parts.empty())
                answer_parts(std::move(w.parts), std::move(w.replies.front()), w.full_script);
            else if (w.caller)
                w.caller->complete({std::move(w.replies), std::nullopt});
            else if (w.replies.front().type == reply::kind::error)
                // AUTH or SELECT refused: nothing can work on this connection.
                lost("the server refused AUTH or SELECT: " + w.replies.front().text);
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
            outbox.clear(); // the failed calls' commands: never sent, they would answer the next calls
            auto waiting_calls = std::move(queue);
            queue.clear();
            auto unsent = std::move(pending);
            pending.clear();
            watchdog.cancel();
            const auto fail = [&e](auto& caller) {
                if (caller)
                    caller->complete({{}, e});
                caller.reset();
            };
            for (auto& w : waiting_calls) {
                fail(w.caller);
                for (auto& p : w.parts)
                    fail(p.call->caller);
            }
            for (auto& p : unsent)
                fail(p.call->caller);
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

    // A script call runs each step's operation as a function of its key and its packed
    // arguments, protected, so that one step's error is its own reply and not the others'. The
    // answer is one string of numbers for all the steps (see answer_parts), which the server
    // writes and the client reads several times faster than an array of arrays of integers.
    static constexpr std::string_view lua_step_head = R"lua(
local function step(key, packed)
local ARGV = unpack_numbers(packed)
local now = ARGV[1]
)lua";

    static constexpr std::string_view lua_steps = R"lua(end
local numbers, errors = {}, {}
for i = 1, #KEYS do
  local ok, r = pcall(step, KEYS[i], ARGV[i])
  if ok then
    numbers[i] = struct.pack(format_of(#r + 1), #r, unpack(r))
  else
    if type(r) ~= 'table' or not r.err then r = redis.error_reply(tostring(r)) end
    numbers[i] = struct.pack('<d', -1)
    errors[#errors + 1] = r
  end
end
return {table.concat(numbers), unpack(errors)}
)lua";

    template <class Op>
    static const script& script_of()
    {
        static const script s = [] {
            script out{std::string(lua_cells) + std::string(lua_step_head) + std::string(Op::script) +
                           std::string(lua_steps),
                       {}};
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

    // Doubles travel as their IEEE bits, least significant byte first, on any host.
    static void pack_double(std::string& out, double v)
    {
        auto bits = std::bit_cast<std::uint64_t>(v);
        for (int i = 0; i < 8; ++i, bits >>= 8)
            out += static_cast<char>(bits & 0xff);
    }

    static double unpack_double(const char* in)
    {
        std::uint64_t bits = 0;
        for (int i = 7; i >= 0; --i)
            bits = (bits << 8) | static_cast<unsigned char>(in[i]);
        return std::bit_cast<double>(bits);
    }

    // A script's number as Redis itself would turn it into an integer reply: truncated; and
    // never undefined behaviour, whatever the bytes said.
    static std::int64_t integer_of(double v)
    {
        if (!(v == v))
            return 0;
        constexpr double bound = 9.2e18;
        return static_cast<std::int64_t>(std::clamp(v, -bound, bound));
    }

    template <class Op>
    static script_step script_step_of(const step<Op>& st, double now, bool cluster)
    {
        script_step out{st.key, {}, cluster ? slot_of(st.key) : std::uint16_t{0}};
        out.arguments.reserve(8 * 8);
        pack_double(out.arguments, now);
        st.op.arguments([&out](double v) { pack_double(out.arguments, v); });
        return out;
    }

    static redis_options checked(redis_options o)
    {
        if (o.max_batch == 0 || o.max_batch > 1024)
            throw std::system_error(make_error_code(errc::invalid_configuration),
                                    "store::redis: max_batch must be between 1 and 1024 (1 sends every step alone)");
        return o;
    }

    static error script_failed(std::string_view why)
    {
        return error{errc::store_unavailable, "store::redis: the script failed: " + std::string(why)};
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
