// llm::client<Policies...>: one LLM call pipeline, assembled at compile time from the
// policies it names and tuned at run time through the policy objects it is given.
//
//   request ─► guard ─► rate_limit ─► budget.reserve ─► cache.lookup ─► routes × retries
//           ─► budget.commit ─► cache.store ─► observer(finished)
//
// Every stage whose policy is absent (its null policy) compiles to nothing. A client whose
// only policy is its transport forwards each call straight to it.
#pragma once

#include <llm/config.hpp>
#include <llm/core/validate.hpp>
#include <llm/detail/hook.hpp>
#include <llm/detail/http_upstream.hpp>
#include <llm/detail/policy_list.hpp>
#include <llm/detail/spawn.hpp>
#include <llm/stream.hpp>
#include <llm/timer.hpp>

#include <asio/async_result.hpp>          // async_initiate
#include <asio/detached.hpp>              // settling an abandoned stream
#include <asio/experimental/append.hpp>   // a refused call's result, posted to its handler
#include <asio/experimental/as_tuple.hpp> // retry waits report cancellation as a value
#include <asio/post.hpp>                  // post
#include <asio/this_coro.hpp>             // cancellation_state, throw_if_cancelled
#include <asio/use_awaitable.hpp>         // use_awaitable

#include <atomic>   // a stream abandoned from another thread
#include <chrono>   // steady_clock for latency
#include <cstddef>  // std::size_t
#include <memory>   // std::shared_ptr for stream state
#include <optional> // reservations, answers
#include <utility>  // std::move

// The pipeline names only the fields of an event that matter; g++ 12 would warn about the rest.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif

namespace llm {

template <class... Policies>
class client {
    static_assert((detail::check_policy<Policies>::value && ...));
    static_assert(detail::count<detail::is_transport, Policies...> == 1,
                  "llm::client needs exactly one transport (e.g. llm::transport::https)");
    static_assert(detail::count<detail::is_provider, Policies...> <= 1, "llm::client: more than one provider given; "
                                                                        "use a fallback chain to combine providers");
    static_assert(detail::count<detail::is_retry, Policies...> <= 1, "llm::client: more than one retry policy given");
    static_assert(detail::count<detail::is_fallback, Policies...> <= 1,
                  "llm::client: more than one fallback policy given");
    static_assert(detail::count<detail::is_cache, Policies...> <= 1, "llm::client: more than one cache policy given");
    static_assert(detail::count<detail::is_budget, Policies...> <= 1, "llm::client: more than one budget policy given");
    static_assert(detail::count<detail::is_rate_limit, Policies...> <= 1,
                  "llm::client: more than one rate limit policy given");
    static_assert(detail::count<detail::is_observer, Policies...> <= 1, "llm::client: more than one observer given; "
                                                                        "write one that forwards to several");
    static_assert(detail::count<detail::is_clock, Policies...> <= 1, "llm::client: more than one clock given");

public:
    using transport_type = detail::select_t<detail::is_transport, transport::none, Policies...>;
    using provider_type = detail::select_t<detail::is_provider, provider::none, Policies...>;
    using retry_type = detail::select_t<detail::is_retry, retry::none, Policies...>;
    using fallback_type = detail::select_t<detail::is_fallback, fallback::none, Policies...>;
    using cache_type = detail::select_t<detail::is_cache, cache::none, Policies...>;
    using budget_type = detail::select_t<detail::is_budget, budget::none, Policies...>;
    using rate_limit_type = detail::select_t<detail::is_rate_limit, rate_limit::none, Policies...>;
    using observer_type = detail::select_t<detail::is_observer, observe::none, Policies...>;
    using clock_type = detail::select_t<detail::is_clock, system_clock, Policies...>;
    using executor_type = typename transport_type::executor_type;
    using stream_type = llm::stream<client>;

    static_assert(model_transport<transport_type> || !std::is_same_v<provider_type, provider::none>,
                  "llm::client: an HTTP transport needs a provider (e.g. llm::provider::openai) to speak to");
    static_assert(!model_transport<transport_type> || std::is_same_v<provider_type, provider::none>,
                  "llm::client: this transport answers llm::request itself; a provider has nothing to do");

    // Every policy default-constructed (deleted when one cannot be, like a transport that needs
    // its executor).
    client() = default;

    // Policies in any order, each given at most once; the ones left out are default-constructed.
    template <class... Args>
    requires detail::policy_arguments<client, Args...>
    explicit client(Args&&... args)
        : transport_(detail::take<transport_type>(std::forward<Args>(args)...)),
          provider_(detail::take<provider_type>(std::forward<Args>(args)...)),
          retry_(detail::take<retry_type>(std::forward<Args>(args)...)),
          fallback_(detail::take<fallback_type>(std::forward<Args>(args)...)),
          cache_(detail::take<cache_type>(std::forward<Args>(args)...)),
          budget_(detail::take<budget_type>(std::forward<Args>(args)...)),
          rate_limit_(detail::take<rate_limit_type>(std::forward<Args>(args)...)),
          observer_(detail::take<observer_type>(std::forward<Args>(args)...))
    {
        static_assert((is_slot<std::remove_cvref_t<Args>> && ...),
                      "llm::client: a constructor argument is not one of this client's policy types");
        static_assert(((count_of<std::remove_cvref_t<Args>, Args...> == 1) && ...),
                      "llm::client: a policy was passed to the constructor twice");
    }

    executor_type get_executor() const noexcept { return transport_.get_executor(); }

    // The policies, for run-time tuning and inspection. Policies are shared by every call
    // in flight, so changing one while calls run is the policy's own business to make safe.
    transport_type& transport() noexcept { return transport_; }
    provider_type& provider() noexcept { return provider_; }
    retry_type& retry() noexcept { return retry_; }
    fallback_type& fallback() noexcept { return fallback_; }
    cache_type& cache() noexcept { return cache_; }
    budget_type& budget() noexcept { return budget_; }
    rate_limit_type& rate_limit() noexcept { return rate_limit_; }
    observer_type& observer() noexcept { return observer_; }

    // Runs one call through the pipeline and completes with its answer or its error.
    //
    // @par Completion Signature
    //   void(llm::result<llm::response>)
    // @par Per-Operation Cancellation
    //   terminal: the call stops at its next stage; an attempt in flight is aborted, its
    //   reservation released, and the handler receives errc::cancelled.
    // The handler is called exactly once, never inside this function. The client must
    // outlive the operation; it may run many calls at once from many threads.
    // The request is copied only where the operation must keep it (a layered pipeline, or a
    // lazy token such as deferred); pass an rvalue to move it instead.
    template <class Request, asio::completion_token_for<void(result<response>)> Token = asio::use_awaitable_t<>>
    requires std::same_as<std::remove_cvref_t<Request>, request>
    auto complete(Request&& req, Token&& token = {})
    {
        return asio::async_initiate<Token, void(result<response>)>(initiate_complete{this}, token,
                                                                   std::forward<Request>(req));
    }

    // Prepares a streamed call; nothing is sent before the stream's first next().
    // The client must outlive the stream.
    stream_type stream(request req) { return stream_type(this, std::move(req)); }

    // True when every layer is left out: calls go straight to the transport.
    static constexpr bool bare = model_transport<transport_type> && std::is_same_v<retry_type, retry::none> &&
                                 std::is_same_v<fallback_type, fallback::none> &&
                                 std::is_same_v<cache_type, cache::none> && std::is_same_v<budget_type, budget::none> &&
                                 std::is_same_v<rate_limit_type, rate_limit::none> &&
                                 std::is_same_v<observer_type, observe::none>;

private:
    friend stream_type;

    template <class T>
    static constexpr bool is_slot =
        std::is_same_v<T, transport_type> || std::is_same_v<T, provider_type> || std::is_same_v<T, retry_type> ||
        std::is_same_v<T, fallback_type> || std::is_same_v<T, cache_type> || std::is_same_v<T, budget_type> ||
        std::is_same_v<T, rate_limit_type> || std::is_same_v<T, observer_type>;

    template <class T, class... Args>
    static constexpr int count_of = (0 + ... + int(std::is_same_v<std::remove_cvref_t<Args>, T>));

    template <class P, class Null>
    static constexpr bool has = !std::is_same_v<P, Null>;

    static constexpr bool has_rate_limit = has<rate_limit_type, rate_limit::none>;
    static constexpr bool has_budget = has<budget_type, budget::none>;
    static constexpr bool has_cache = has<cache_type, cache::none>;
    static constexpr bool has_retry = has<retry_type, retry::none>;
    static constexpr bool has_fallback = has<fallback_type, fallback::none>;
    static constexpr bool has_observer = has<observer_type, observe::none>;

    using reservation = typename budget_type::reservation;
    using steady = std::chrono::steady_clock; // latency is real time, whatever the policy clock says

    struct initiate_complete {
        client* self;

        template <class Handler, class Request>
        void operator()(Handler&& handler, Request&& req) const
        {
            if constexpr (bare) {
                if (auto bad = validate(req))
                    return refuse(std::forward<Handler>(handler), std::move(*bad));
                self->transport_.async_complete(req, std::forward<Handler>(handler)); // reads req only now
            } else {
                detail::spawn<response>(self->get_executor(), self->run(request(std::forward<Request>(req))),
                                        std::forward<Handler>(handler));
            }
        }

        template <class Handler>
        void refuse(Handler&& handler, error e) const
        {
            auto ex = asio::get_associated_executor(handler, self->get_executor());
            asio::post(ex, asio::experimental::append(std::forward<Handler>(handler), result<response>{std::move(e)}));
        }
    };

    // ── the pipeline ──────────────────────────────────────────────────────────────────────

    // What one call carries from stage to stage.
    struct call {
        llm::request request;
        bool streaming = false;
        std::optional<reservation> reserved;
        std::size_t route = 0; // the route that answered
        steady::time_point started = steady::now();
        std::atomic<bool> abandoned = false; // set by a stream's cancel() while a next() is pending
    };

    void emit(const call& c, observe::event e)
    {
        if constexpr (has_observer) {
            e.request = &c.request;
            e.streaming = c.streaming;
            observer_.on_event(e);
        }
    }

    // Cancelled through the operation's cancellation slot, or a stream's cancel().
    static asio::awaitable<bool> cancelled(const call& c)
    {
        auto state = co_await asio::this_coro::cancellation_state;
        co_return c.abandoned || state.cancelled() != asio::cancellation_type::none;
    }

    asio::awaitable<std::optional<result<response>>> run(request req)
    {
        co_await asio::this_coro::throw_if_cancelled(false);
        call c{.request = std::move(req)};
        if (auto refused = co_await admit(c)) {
            co_await release(c);
            co_return finish<response>(c, std::move(*refused), nullptr);
        }
        if constexpr (has_cache) {
            auto hit = co_await detail::call_hook([&] { return cache_.lookup(c.request, clock_type::now()); });
            if (hit) {
                emit(c, {.stage = observe::stage::cache_hit});
                co_await release(c);
                hit->cached = true;
                hit->cost = 0.0; // nothing was billed for this call
                const usage used = hit->usage;
                co_return finish<response>(c, std::move(*hit), &used);
            }
            emit(c, {.stage = observe::stage::cache_miss});
        }
        auto answer = co_await through_routes(c, [this](const request& r) { return attempt(r); });
        if (!answer) {
            co_await release(c);
            co_return finish<response>(c, std::move(answer).error(), nullptr);
        }
        if constexpr (has_fallback)
            answer.value().route = std::string(fallback_.name(c.route));
        co_await commit(c, answer.value().usage);
        price(c, answer.value());
        if constexpr (has_cache) {
            co_await detail::call_hook([&] { return cache_.store(c.request, answer.value(), clock_type::now()); });
            emit(c, {.stage = observe::stage::cached});
        }
        const usage used = answer.value().usage;
        co_return finish(c, std::move(answer), &used);
    }

    // Guard, rate limit and budget: a refusal ends the call before anything is spent.
    asio::awaitable<std::optional<error>> admit(call& c)
    {
        emit(c, {.stage = observe::stage::started});
        if (auto bad = validate(c.request))
            co_return bad;
        if constexpr (has_rate_limit) {
            auto admitted =
                co_await detail::call_hook([&] { return rate_limit_.acquire(c.request, clock_type::now()); });
            if (!admitted) {
                emit(c, {.stage = observe::stage::rate_limited, .error = &admitted.error()});
                co_return std::move(admitted).error();
            }
            emit(c, {.stage = observe::stage::admitted});
        }
        if constexpr (has_budget) {
            auto granted = co_await detail::call_hook([&] { return budget_.reserve(c.request, clock_type::now()); });
            if (!granted) {
                emit(c, {.stage = observe::stage::budget_refused, .error = &granted.error()});
                co_return std::move(granted).error();
            }
            c.reserved.emplace(std::move(granted).value());
            emit(c, {.stage = observe::stage::reserved});
        }
        if (co_await cancelled(c))
            co_return error{errc::cancelled};
        co_return std::nullopt;
    }

    // One attempt on one route of a complete() call.
    asio::awaitable<result<response>> attempt(const request& r)
    {
        if constexpr (model_transport<transport_type>) {
            co_return co_await detail::await_operation<result<response>>(
                [&](auto handler) { transport_.async_complete(r, std::move(handler)); });
        } else {
            auto wire = provider_.encode(r);
            if (!wire)
                co_return std::move(wire).error();
            auto answer = co_await detail::await_operation<result<http::response>>(
                [&](auto handler) { transport_.async_send(wire.value(), std::move(handler)); });
            if (!answer)
                co_return std::move(answer).error();
            co_return provider_.decode(answer.value());
        }
    }

    // Tries each available route in order, retrying each as the retry policy says, until one
    // answers. `try_once(const request&)` makes one attempt and returns awaitable<result<R>>.
    template <class TryOnce>
    auto through_routes(call& c, TryOnce try_once)
        -> asio::awaitable<typename std::invoke_result_t<TryOnce&, const request&>::value_type>
    {
        using outcome = typename std::invoke_result_t<TryOnce&, const request&>::value_type;
        std::optional<error> last;
        for (std::size_t route = 0; route < fallback_.size(); ++route) {
            const auto name = fallback_.name(route);
            if (!fallback_.available(route, clock_type::now())) {
                emit(c, {.stage = observe::stage::route_skipped, .route = route, .route_name = name});
                continue;
            }
            // Without fallback the one route uses the request as it is; routes may rewrite a copy.
            std::optional<request> rewritten;
            if constexpr (has_fallback) {
                rewritten.emplace(c.request);
                fallback_.prepare(route, *rewritten);
            }
            const request& routed = rewritten ? *rewritten : c.request;
            const auto route_started = clock_type::now(); // retry budgets count on the client's clock
            for (unsigned number = 1;; ++number) {
                emit(c, {.stage = observe::stage::attempt, .route = route, .route_name = name, .attempt = number});
                outcome answer = co_await try_once(routed);
                if (answer) {
                    c.route = route;
                    fallback_.succeeded(route, clock_type::now());
                    co_return answer;
                }
                error failure = std::move(answer).error();
                emit(c, {.stage = observe::stage::attempt_failed,
                         .route = route,
                         .route_name = name,
                         .attempt = number,
                         .error = &failure});
                if (failure == errc::cancelled || co_await cancelled(c))
                    co_return error{errc::cancelled, failure.message};
                if constexpr (has_retry) {
                    const retry::attempt done{.number = number, .elapsed = clock_type::now() - route_started};
                    if (auto delay = retry_.next_delay(done, failure)) {
                        emit(c, {.stage = observe::stage::retry_wait,
                                 .route = route,
                                 .route_name = name,
                                 .attempt = number,
                                 .error = &failure,
                                 .delay = *delay});
                        if (!co_await wait(*delay))
                            co_return error{errc::cancelled, "cancelled while waiting to retry"};
                        continue;
                    }
                }
                fallback_.failed(route, failure, clock_type::now());
                emit(c, {.stage = observe::stage::route_failed,
                         .route = route,
                         .route_name = name,
                         .attempt = number,
                         .error = &failure});
                last = std::move(failure);
                break;
            }
        }
        if (last)
            co_return std::move(*last);
        co_return error{errc::provider_unavailable, "every route is unavailable (circuit breakers open)"};
    }

    // Waits on the client's clock; false when cancelled.
    asio::awaitable<bool> wait(std::chrono::milliseconds delay)
    {
        timer<clock_type> t(co_await asio::this_coro::executor, delay);
        auto [ec] = co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        co_return !ec;
    }

    asio::awaitable<void> commit(call& c, const usage& used)
    {
        if constexpr (has_budget) {
            if (c.reserved) {
                auto r = std::move(*c.reserved);
                c.reserved.reset();
                co_await detail::call_hook([&] { return budget_.commit(std::move(r), used, clock_type::now()); });
                emit(c, {.stage = observe::stage::committed, .used = &used});
            }
        }
        co_return;
    }

    asio::awaitable<void> release(call& c)
    {
        if constexpr (has_budget) {
            if (c.reserved) {
                auto r = std::move(*c.reserved);
                c.reserved.reset();
                co_await detail::call_hook([&] { return budget_.release(std::move(r), clock_type::now()); });
                emit(c, {.stage = observe::stage::released});
            }
        }
        co_return;
    }

    // What the answer cost, when the budget knows prices.
    void price(const call& c, response& answer)
    {
        if constexpr (requires { budget_.price(std::string_view{}, usage{}); })
            answer.cost = budget_.price(answer.model.empty() ? c.request.model : answer.model, answer.usage);
    }

    // A stream that ended early may not have seen the provider's usage (OpenAI reports it last):
    // the tokens it streamed are then estimated, about four bytes each, so they are charged.
    static usage streamed_usage(const response& answer, bool ended_early)
    {
        usage used = answer.usage;
        if (ended_early && used.output_tokens == 0) {
            std::size_t bytes = answer.text.size();
            for (const auto& call : answer.tool_calls)
                bytes += call.name.size() + call.arguments.size();
            used.output_tokens = (bytes + 3) / 4;
        }
        return used;
    }

    void finished(const call& c, const error* failure, const usage* used)
    {
        emit(c,
             {.stage = observe::stage::finished, .error = failure, .used = used, .delay = steady::now() - c.started});
    }

    template <class T>
    std::optional<result<T>> finish(const call& c, result<T> outcome, const usage* used)
    {
        finished(c, outcome ? nullptr : &outcome.error(), used);
        return outcome;
    }

    // ── streams ───────────────────────────────────────────────────────────────────────────

    using upstream_type = typename detail::upstream_for<transport_type, provider_type>::type;

    struct stream_state {
        explicit stream_state(request req) : c{.request = std::move(req), .streaming = true} {}

        enum class phase { fresh, flowing, done };

        call c;
        phase at = phase::fresh;
        bool busy = false;                     // a next() is pending
        std::optional<upstream_type> upstream; // open from the first attempt until the end
        response answer;                       // assembled from the chunks, for budget and cache
    };

    template <class Handler>
    void start_next(std::shared_ptr<stream_state> s, Handler&& handler)
    {
        static_assert(model_transport<transport_type> ||
                          (http_streaming_transport<transport_type> && streaming_provider<provider_type>),
                      "llm::client: streaming over HTTP needs a transport with open() (llm::transport::https) "
                      "and a provider with a stream decoder (llm::provider::openai, anthropic, gemini)");
        if (s->busy) {
            auto ex = asio::get_associated_executor(handler, get_executor());
            result<std::optional<chunk>> misuse{
                error{errc::bad_request, "stream::next() called while another next() is pending"}};
            return asio::post(ex, asio::experimental::append(std::forward<Handler>(handler), std::move(misuse)));
        }
        s->busy = true;
        detail::spawn<std::optional<chunk>>(get_executor(), next_chunk(std::move(s)), std::forward<Handler>(handler));
    }

    void abandon(const std::shared_ptr<stream_state>& s)
    {
        if (s->at == stream_state::phase::done)
            return;
        s->c.abandoned = true;
        if (s->upstream)
            s->upstream->cancel();
        if (s->busy)
            return; // the pending next() sees the cancellation and settles the stream
        if (s->at == stream_state::phase::fresh) {
            s->at = stream_state::phase::done; // nothing was sent, nothing to settle
            return;
        }
        s->at = stream_state::phase::done;
        asio::co_spawn(get_executor(), settle(s, error{errc::cancelled, "the stream was cancelled"}), asio::detached);
    }

    asio::awaitable<std::optional<result<std::optional<chunk>>>> next_chunk(std::shared_ptr<stream_state> s)
    {
        co_await asio::this_coro::throw_if_cancelled(false);
        struct idle_on_exit {
            stream_state& s;
            ~idle_on_exit() { s.busy = false; }
        } idle{*s};
        switch (s->at) {
        case stream_state::phase::fresh:
            co_return co_await open_stream(s);
        case stream_state::phase::flowing:
            co_return co_await pull(s);
        case stream_state::phase::done:
            break;
        }
        co_return result<std::optional<chunk>>{std::nullopt};
    }

    // The first next(): the pipeline up to the first chunk, with retries and fallback.
    asio::awaitable<result<std::optional<chunk>>> open_stream(std::shared_ptr<stream_state> s)
    {
        call& c = s->c;
        if (auto refused = co_await admit(c)) {
            s->at = stream_state::phase::done;
            co_await release(c);
            finished(c, &*refused, nullptr);
            co_return std::move(*refused);
        }
        if constexpr (has_cache) {
            auto hit = co_await detail::call_hook([&] { return cache_.lookup(c.request, clock_type::now()); });
            if (hit) {
                emit(c, {.stage = observe::stage::cache_hit});
                co_await release(c);
                s->at = stream_state::phase::done;
                finished(c, nullptr, &hit->usage);
                co_return whole_answer(*hit);
            }
            emit(c, {.stage = observe::stage::cache_miss});
        }
        auto first = co_await through_routes(c, [&](const request& r) -> asio::awaitable<result<std::optional<chunk>>> {
            s->upstream.reset(); // a failed attempt's upstream closes before the next one opens
            if constexpr (model_transport<transport_type>)
                s->upstream.emplace(transport_.open(r));
            else
                s->upstream.emplace(transport_, provider_, r);
            co_return co_await next_from(*s->upstream);
        });
        if (!first) {
            s->at = stream_state::phase::done;
            s->upstream.reset();
            co_await release(c);
            finished(c, &first.error(), nullptr);
            co_return first;
        }
        if constexpr (has_fallback)
            s->answer.route = std::string(fallback_.name(c.route));
        co_return co_await accept(s, std::move(first));
    }

    asio::awaitable<result<std::optional<chunk>>> pull(std::shared_ptr<stream_state> s)
    {
        if (s->c.abandoned)
            co_return co_await accept(s, error{errc::cancelled, "the stream was cancelled"});
        co_return co_await accept(s, co_await next_from(*s->upstream));
    }

    static auto next_from(upstream_type& up)
    {
        return detail::await_operation<result<std::optional<chunk>>>(
            [&](auto handler) { up.async_next(std::move(handler)); });
    }

    // Passes a chunk on, or ends the stream on its end or its failure.
    asio::awaitable<result<std::optional<chunk>>> accept(std::shared_ptr<stream_state> s,
                                                         result<std::optional<chunk>> next)
    {
        if (next && next.value()) {
            s->at = stream_state::phase::flowing;
            absorb(s->answer, *next.value());
            co_return next;
        }
        s->at = stream_state::phase::done;
        if (!next) {
            error failure = std::move(next).error();
            co_await settle(std::move(s), failure);
            co_return failure;
        }
        co_await settle(std::move(s), std::nullopt);
        co_return next;
    }

    // Ends a stream that sent its request: charge what was used; keep only a complete answer.
    asio::awaitable<void> settle(std::shared_ptr<stream_state> s, std::optional<error> failure)
    {
        if (s->upstream) {
            if (failure)
                s->upstream->cancel();
            s->upstream.reset();
        }
        s->answer.usage = streamed_usage(s->answer, failure.has_value());
        co_await commit(s->c, s->answer.usage);
        if constexpr (has_cache) {
            if (!failure) {
                co_await detail::call_hook([&] { return cache_.store(s->c.request, s->answer, clock_type::now()); });
                emit(s->c, {.stage = observe::stage::cached});
            }
        }
        finished(s->c, failure ? &*failure : nullptr, &s->answer.usage);
    }

    static void absorb(response& answer, const chunk& piece)
    {
        answer.text += piece.text;
        for (const auto& delta : piece.tool_calls) {
            if (answer.tool_calls.size() <= delta.index)
                answer.tool_calls.resize(delta.index + 1);
            auto& call = answer.tool_calls[delta.index];
            if (!delta.id.empty())
                call.id = delta.id;
            if (!delta.name.empty())
                call.name = delta.name;
            call.arguments += delta.arguments;
        }
        if (piece.finish_reason)
            answer.finish_reason = *piece.finish_reason;
        if (piece.usage)
            answer.usage = *piece.usage; // cumulative: the latest report is the call's usage so far
        if (!piece.rate_limits.empty())
            answer.rate_limits = piece.rate_limits;
    }

    // A cached answer, replayed as a single chunk.
    static std::optional<chunk> whole_answer(const response& answer)
    {
        chunk all{.text = answer.text, .finish_reason = answer.finish_reason};
        for (std::size_t i = 0; i < answer.tool_calls.size(); ++i) {
            const auto& call = answer.tool_calls[i];
            all.tool_calls.push_back({.index = i, .id = call.id, .name = call.name, .arguments = call.arguments});
        }
        return all;
    }

    LLM_NO_UNIQUE_ADDRESS transport_type transport_;
    LLM_NO_UNIQUE_ADDRESS provider_type provider_;
    LLM_NO_UNIQUE_ADDRESS retry_type retry_;
    LLM_NO_UNIQUE_ADDRESS fallback_type fallback_;
    LLM_NO_UNIQUE_ADDRESS cache_type cache_;
    LLM_NO_UNIQUE_ADDRESS budget_type budget_;
    LLM_NO_UNIQUE_ADDRESS rate_limit_type rate_limit_;
    LLM_NO_UNIQUE_ADDRESS observer_type observer_;
};

} // namespace llm

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
