// The rate-limit policy, for any counting algorithm: builds one store step per rule from the
// request's identity, applies them in one batch, and turns the verdicts into an admission or
// an errc::rate_limited error that says when to retry (error::retry_after, error::quota).
// token_bucket.hpp and sliding_window.hpp name the two algorithms.
#pragma once

#include <llm/config.hpp>
#include <llm/rate_limit/charge.hpp>
#include <llm/rate_limit/rule.hpp>
#include <llm/store/store.hpp>
#include <llm/token/counter.hpp>

#include <utility> // std::move
#include <vector>  // rules

namespace llm::rate_limit {

template <store_backend Store, class Take, token_counter Counter = token::estimator>
class limiter {
public:
    // Refuses impossible rules (no limit, a count or window not positive) with
    // errc::invalid_configuration; limiter(...) throws std::system_error for the same reasons.
    static result<limiter> create(Store store, std::vector<rule> rules, rate_limit::options opts = {},
                                  Counter counter = {})
    {
        BOOST_OUTCOME_TRY(detail::check(rules, opts, store::max_steps));
        return limiter(std::move(store), std::move(rules), std::move(opts), std::move(counter), 0);
    }

    limiter(Store store, std::vector<rule> rules, rate_limit::options opts = {}, Counter counter = {})
        : limiter(create(std::move(store), std::move(rules), std::move(opts), std::move(counter)).value())
    {
    }

    // Admits the call, or fails with errc::rate_limited and retry_after and quota set (retry_after
    // unset when the call can never fit, e.g. more tokens than a whole window allows).
    auto acquire(const request& r, time_point now)
    {
        if constexpr (llm::detail::is_awaitable<decltype(counter_.count(r))>::value)
            return acquire_after_count(r, now);
        else
            return acquire_costing(r, counts_tokens_ ? tokens_of(r, counter_.count(r)) : 0, now);
    }

    // Where a caller stands now under the first rule, without taking anything: the headers of
    // an admitted answer (X-RateLimit-Remaining) come from here.
    auto status(const request& r, time_point now)
    {
        store::steps<Take> peek;
        add_step(peek, rules_.front(), r, false, 0, 0);
        return store::apply_then(store_, std::move(peek), now,
                                 [this](result<store::outcomes<verdict>> done) -> result<quota> {
                                     if (!done)
                                         return std::move(done).error();
                                     return quota_of(rules_.front(), done.value()[0]);
                                 });
    }

    const std::vector<rule>& rules() const noexcept { return rules_; }

private:
    limiter(Store store, std::vector<rule> rules, rate_limit::options opts, Counter counter, int)
        : store_(std::move(store)), rules_(std::move(rules)), options_(std::move(opts)), counter_(std::move(counter))
    {
        for (std::size_t i = 0; i < rules_.size(); ++i) {
            const auto& rl = rules_[i];
            counts_tokens_ = counts_tokens_ || rl.tokens.has_value();
            frames_.emplace_back(options_.prefix, detail::letter_of(rl.scope), "rate" + std::to_string(i));
        }
    }

    // What a call costs in tokens: its input, counted, and the most it may answer.
    double tokens_of(const request& r, std::uint64_t input) const
    {
        const auto output = r.max_tokens ? static_cast<std::int64_t>(*r.max_tokens) : options_.assumed_output_tokens;
        return static_cast<double>(input) + static_cast<double>(output);
    }

    // A counter that answers later (a provider's count endpoint) is awaited first.
    asio::awaitable<result<void>> acquire_after_count(const request& r, time_point now)
    {
        const double tokens = counts_tokens_ ? tokens_of(r, co_await counter_.count(r)) : 0;
        if constexpr (store::answers_later<Store>)
            co_return co_await acquire_costing(r, tokens, now);
        else
            co_return acquire_costing(r, tokens, now);
    }

    auto acquire_costing(const request& r, double tokens, time_point now)
    {
        if constexpr (store::applies_directly<Store, Take>)
            return acquire_directly(r, tokens, now);
        else
            return store::apply_then(store_, batch(r, tokens), now,
                                     [this, &r, tokens, now](const result<store::outcomes<verdict>>& done) {
                                         return decide(r, tokens, now, done);
                                     });
    }

    // A store that answers each step at once (store::memory): no batch, no result to unwrap.
    result<void> acquire_directly(const request& r, double tokens, time_point now)
    {
        store::outcomes<verdict> verdicts;
        bool admitted = true; // by every rule: the usual call, decided here
        for (const auto& rl : rules_) {
            const auto apply = [&] { return store_.apply_one(key_of(rl, r), take(rl, false, tokens), now); };
            admitted = verdicts.emplace_back_made(apply).admitted && admitted;
        }
        if (admitted)
            return success();
        return decide_verdicts(r, tokens, now, verdicts);
    }

    // One rule's operation: a call costs one request and `tokens` tokens; a peek costs nothing.
    static Take take(const rule& rl, bool give_back, double tokens, double requests = 1)
    {
        Take op{.give_back = give_back};
        if (rl.requests)
            op.limits.push_back(
                {static_cast<double>(rl.requests->count), static_cast<double>(rl.requests->per.count()), requests});
        if (rl.tokens)
            op.limits.push_back(
                {static_cast<double>(rl.tokens->count), static_cast<double>(rl.tokens->per.count()), tokens});
        return op;
    }

    store::key_text key_of(const rule& rl, const request& r) const
    {
        return detail::with_id(rl, r, frames_[static_cast<std::size_t>(&rl - rules_.data())]);
    }

    void add_step(store::steps<Take>& out, const rule& rl, const request& r, bool give_back, double tokens,
                  double requests = 1) const
    {
        out.emplace_back([&] { return key_of(rl, r); }, take(rl, give_back, tokens, requests));
    }

    store::steps<Take> batch(const request& r, double tokens) const
    {
        store::steps<Take> out;
        for (const auto& rl : rules_)
            add_step(out, rl, r, false, tokens);
        return out;
    }

    static quota quota_of(const rule& rl, const verdict& v)
    {
        const bool tokens = v.binding == 1 || !rl.requests;
        const auto& l = tokens ? *rl.tokens : *rl.requests;
        return {.limit = l.count, .remaining = v.remaining, .reset = v.reset, .window = l.per, .tokens = tokens};
    }

    auto decide(const request& r, double tokens, time_point now, const result<store::outcomes<verdict>>& done)
    {
        if (!done) {
            if (options_.fail_open)
                return finish(success(), store::steps<Take>{}, now);
            error e{errc::store_unavailable,
                    "rate limit store unavailable, call refused (fail-closed): " + done.error().message};
            return finish(std::move(e), store::steps<Take>{}, now);
        }
        return decide_verdicts(r, tokens, now, done.value());
    }

    auto decide_verdicts(const request& r, double tokens, time_point now, const store::outcomes<verdict>& verdicts)
    {
        const verdict* refusal = nullptr;
        std::size_t refused_rule = 0;
        for (std::size_t i = 0; i < verdicts.size(); ++i)
            if (!verdicts[i].admitted && (!refusal || longer(verdicts[i], *refusal))) {
                refusal = &verdicts[i];
                refused_rule = i;
            }
        if (!refusal)
            return finish(success(), store::steps<Take>{}, now);
        // Rules that admitted took their share: give it back, the call is not made.
        store::steps<Take> give_back;
        for (std::size_t i = 0; i < verdicts.size(); ++i)
            if (verdicts[i].admitted)
                add_step(give_back, rules_[i], r, true, tokens);
        return finish(refused(rules_[refused_rule], *refusal, r, tokens), std::move(give_back), now);
    }

    static bool longer(const verdict& a, const verdict& b)
    {
        const auto never = std::chrono::milliseconds{-1};
        return b.retry_after != never && (a.retry_after == never || a.retry_after > b.retry_after);
    }

    error refused(const rule& rl, const verdict& v, const request& r, double tokens) const
    {
        const quota q = quota_of(rl, v);
        const auto id = detail::with_id(rl, r, [](std::string_view s) { return std::string(s); });
        const char* unit = q.tokens ? "tokens" : "requests";
        std::string who = detail::name_of(rl.scope);
        if (rl.scope != scope::global)
            who += " '" + id + "'";
        error e{errc::rate_limited};
        e.quota = q;
        if (v.retry_after.count() < 0) {
            e.message = "the call needs " + std::to_string(static_cast<std::int64_t>(tokens)) +
                        " tokens, more than the limit of " + detail::describe({q.limit, q.window}, unit) + " for " +
                        who + " allows; lower max_tokens or shorten the prompt";
        } else {
            e.retry_after = v.retry_after;
            e.message = "limit of " + detail::describe({q.limit, q.window}, unit) + " for " + who + " reached";
        }
        return e;
    }

    // The verdict, after giving back what refused calls took, when there is anything to give.
    auto finish(result<void> verdict_, store::steps<Take> give_back, time_point now)
    {
        if (give_back.empty())
            return store::ready<Store>(std::move(verdict_));
        return store::apply_then(store_, std::move(give_back), now,
                                 [v = std::move(verdict_)](const auto&) mutable { return std::move(v); });
    }

    Store store_;
    std::vector<rule> rules_;
    std::vector<store::key_frame> frames_; // of each rule's keys
    rate_limit::options options_;
    LLM_NO_UNIQUE_ADDRESS Counter counter_;
    bool counts_tokens_ = false;
};

} // namespace llm::rate_limit
