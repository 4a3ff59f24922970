// llm::test::scripted: an in-process model transport that answers from a script.
//
// Each call (complete, or a stream's first next) takes the next step of the script: an answer,
// an error, a stream of chunks (optionally failing or hanging part-way), or a hang that only
// cancellation ends. It records the requests it received and how many streams were aborted,
// so tests can prove what reached it and what did not. Benchmarks use it as the cheapest
// possible transport.
#pragma once

#include <llm/transport/transport.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/experimental/append.hpp>
#include <asio/post.hpp>

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <variant>
#include <vector>

namespace llm::test {

// Chunks, then either the end, an error, or a hang (until cancelled).
struct stream_script {
    std::vector<chunk> chunks;
    std::optional<error> then_fail;
    bool then_hang = false;
};

struct hang {};

using step = std::variant<response, error, stream_script, hang>;

namespace detail {

// One operation parked until cancelled (the "hang" step).
template <class Result>
class parked {
public:
    template <class Handler, class Executor>
    static std::shared_ptr<parked> hold(Handler&& handler, const Executor& fallback)
    {
        auto p = std::make_shared<parked>();
        auto slot = asio::get_associated_cancellation_slot(handler);
        p->op_ = std::make_unique<op<std::decay_t<Handler>>>(std::forward<Handler>(handler), fallback);
        if (slot.is_connected())
            // The slot keeps the parked operation alive until cancellation or the next operation.
            slot.assign([p](asio::cancellation_type) {
                p->release(error{errc::cancelled, "scripted transport: cancelled while hanging"});
            });
        return p;
    }

    void release(error e)
    {
        std::unique_ptr<base> taken;
        {
            std::lock_guard lock(mutex_);
            taken = std::move(op_);
        }
        if (taken)
            taken->complete(Result{std::move(e)});
    }

private:
    struct base {
        virtual ~base() = default;
        virtual void complete(Result r) = 0;
    };
    template <class Handler>
    struct op final : base {
        template <class H, class Executor>
        op(H&& h, const Executor& fallback)
            : handler(std::forward<H>(h)), executor(asio::get_associated_executor(handler, fallback))
        {
        }
        void complete(Result r) override
        {
            asio::post(executor, asio::experimental::append(std::move(handler), std::move(r)));
        }
        Handler handler;
        asio::associated_executor_t<Handler, asio::any_io_executor> executor;
    };

    std::mutex mutex_;
    std::unique_ptr<base> op_;
};

} // namespace detail

class scripted {
    struct state {
        mutable std::mutex mutex;
        std::deque<step> steps;
        std::optional<response> otherwise;
        std::vector<request> received;
        std::size_t calls = 0;
        std::size_t aborted = 0;
    };

public:
    using executor_type = asio::any_io_executor;

    explicit scripted(executor_type ex) : executor_(std::move(ex)), state_(std::make_shared<state>()) {}

    executor_type get_executor() const noexcept { return executor_; }

    // ── the script ──
    scripted& then(step s)
    {
        std::lock_guard lock(state_->mutex);
        state_->steps.push_back(std::move(s));
        return *this;
    }
    scripted& then_answer(std::string text, usage used = {3, 2, 0})
    {
        return then(response{.text = std::move(text), .usage = used, .model = "scripted"});
    }
    scripted& then_fail(errc code, int http_status = 0, std::optional<std::chrono::milliseconds> retry_after = {})
    {
        error e{code, "scripted failure"};
        e.http_status = http_status;
        e.retry_after = retry_after;
        return then(std::move(e));
    }
    // When the script runs out, every call gets this answer (benchmarks never run out).
    scripted& otherwise(response r)
    {
        std::lock_guard lock(state_->mutex);
        state_->otherwise = std::move(r);
        return *this;
    }

    // ── what it saw ──
    std::vector<request> received() const
    {
        std::lock_guard lock(state_->mutex);
        return state_->received;
    }
    std::size_t calls() const
    {
        std::lock_guard lock(state_->mutex);
        return state_->calls;
    }
    std::size_t aborted_streams() const
    {
        std::lock_guard lock(state_->mutex);
        return state_->aborted;
    }
    std::size_t steps_left() const
    {
        std::lock_guard lock(state_->mutex);
        return state_->steps.size();
    }

    // ── the transport ──
    template <class Handler>
    void async_complete(const request& r, Handler&& handler)
    {
        auto s = take(*state_, r);
        if (auto* answer = std::get_if<response>(&s))
            return post(executor_, std::forward<Handler>(handler), result<response>{std::move(*answer)});
        if (auto* failure = std::get_if<error>(&s))
            return post(executor_, std::forward<Handler>(handler), result<response>{std::move(*failure)});
        if (auto* streamed = std::get_if<stream_script>(&s)) {
            if (streamed->then_fail)
                return post(executor_, std::forward<Handler>(handler), result<response>{*streamed->then_fail});
            if (!streamed->then_hang)
                return post(executor_, std::forward<Handler>(handler), result<response>{assemble(*streamed)});
        }
        detail::parked<result<response>>::hold(std::forward<Handler>(handler), executor_);
    }

    class upstream {
    public:
        template <class Handler>
        void async_next(Handler&& handler)
        {
            using result_type = result<std::optional<chunk>>;
            if (cancelled_)
                return post(executor_, std::forward<Handler>(handler),
                            result_type{error{errc::cancelled, "scripted transport: stream cancelled"}});
            if (!script_) {
                script_ = as_stream(take(*state_, request_));
                // The request is "sent" now; keep nothing more of it.
                request_ = {};
            }
            if (next_ < script_->chunks.size())
                return post(executor_, std::forward<Handler>(handler), result_type{script_->chunks[next_++]});
            if (script_->then_fail)
                return finish(std::forward<Handler>(handler), result_type{*script_->then_fail});
            if (script_->then_hang) {
                hanging_ = detail::parked<result_type>::hold(std::forward<Handler>(handler), executor_);
                return;
            }
            finish(std::forward<Handler>(handler), result_type{std::nullopt});
        }

        void cancel()
        {
            if (cancelled_ || ended_)
                return;
            cancelled_ = true;
            {
                std::lock_guard lock(state_->mutex);
                ++state_->aborted;
            }
            if (hanging_)
                hanging_->release(error{errc::cancelled, "scripted transport: stream cancelled"});
        }

        upstream(upstream&&) noexcept = default;
        upstream& operator=(upstream&&) = delete;
        ~upstream()
        {
            if (state_ && script_)
                cancel();
        }

    private:
        friend scripted;
        upstream(std::shared_ptr<state> st, executor_type ex, request r)
            : state_(std::move(st)), executor_(std::move(ex)), request_(std::move(r))
        {
        }

        template <class Handler, class Result>
        void finish(Handler&& handler, Result r)
        {
            ended_ = true;
            post(executor_, std::forward<Handler>(handler), std::move(r));
        }

        std::shared_ptr<state> state_;
        executor_type executor_;
        request request_;
        std::optional<stream_script> script_;
        std::size_t next_ = 0;
        bool cancelled_ = false;
        bool ended_ = false;
        std::shared_ptr<detail::parked<result<std::optional<chunk>>>> hanging_;
    };

    upstream open(const request& r) { return upstream(state_, executor_, r); }

private:
    static step take(state& st, const request& r)
    {
        std::lock_guard lock(st.mutex);
        ++st.calls;
        if (!st.otherwise)
            st.received.push_back(r); // benchmarks run forever: do not grow without bound
        if (st.steps.empty()) {
            if (st.otherwise)
                return *st.otherwise;
            return error{errc::provider_unavailable, "scripted transport: the script has no more steps"};
        }
        step s = std::move(st.steps.front());
        st.steps.pop_front();
        return s;
    }

    static response assemble(const stream_script& streamed)
    {
        response r{.model = "scripted"};
        for (const auto& c : streamed.chunks) {
            r.text += c.text;
            if (c.finish_reason)
                r.finish_reason = *c.finish_reason;
            if (c.usage)
                r.usage = *c.usage;
        }
        return r;
    }

    // Any step as a stream: an answer becomes one chunk, an error fails the first next().
    static stream_script as_stream(step s)
    {
        if (auto* streamed = std::get_if<stream_script>(&s))
            return std::move(*streamed);
        if (auto* answer = std::get_if<response>(&s))
            return {.chunks = {
                        chunk{.text = answer->text, .finish_reason = answer->finish_reason, .usage = answer->usage}}};
        if (auto* failure = std::get_if<error>(&s))
            return {.then_fail = std::move(*failure)};
        return {.then_hang = true};
    }

    template <class Handler, class Result>
    static void post(const executor_type& fallback, Handler&& handler, Result r)
    {
        auto ex = asio::get_associated_executor(handler, fallback);
        asio::post(ex, asio::experimental::append(std::forward<Handler>(handler), std::move(r)));
    }

    executor_type executor_;
    std::shared_ptr<state> state_;
};

static_assert(model_transport<scripted>);

} // namespace llm::test
