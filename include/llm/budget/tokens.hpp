// budget::tokens<Store>: what one call, one user, one tenant and everyone together may spend,
// in tokens or in US dollars, per window (a calendar day by default).
//
//   reserve  before the call: the prompt's tokens (from the token counter) plus max_tokens, in
//            every scope that has a limit; refuses with errc::budget_exceeded, or lowers
//            max_tokens to what is left
//   commit   after it: charges what the provider billed, gives back the rest, fires alerts
//   release  gives everything back (a cache hit, a failed call)
//   status   where each scope stands, reserving nothing
//
// Every scope's check-and-hold is one atomic store operation, so concurrent calls, threads or
// replicas never hold together more than a limit allows. A call refused by one scope gives
// back what the others held for it.
#pragma once

#include <llm/budget/operations.hpp>
#include <llm/budget/window.hpp>
#include <llm/config.hpp>
#include <llm/core/request.hpp>
#include <llm/core/usage.hpp>
#include <llm/cost/price_table.hpp>
#include <llm/store/store.hpp>
#include <llm/token/counter.hpp>

#include <algorithm>  // std::min
#include <cmath>      // std::ceil, std::isfinite
#include <functional> // callbacks
#include <limits>     // infinity
#include <optional>   // limits
#include <string>     // keys, messages
#include <utility>    // std::move
#include <vector>     // alert thresholds

namespace llm::budget {

enum class unit { tokens, usd };

// Whose spending a limit counts, in the order a call's holds are taken.
enum class scope : std::uint8_t { user, tenant, global };

inline const char* name_of(scope s) noexcept
{
    return s == scope::user ? "user" : s == scope::tenant ? "tenant" : "global";
}

// Each limit is optional; amounts are in the budget's unit (tokens, or US dollars).
struct limits {
    // Input plus output tokens of one call, whatever the unit: longer prompts are refused, and
    // max_tokens is lowered so that the answer cannot take the call past it.
    std::optional<std::int64_t> per_request;
    std::optional<double> per_user;   // per window, for each identity.user
    std::optional<double> per_tenant; // per window, for each identity.tenant
    std::optional<double> global;     // per window, for all calls together: the hard ceiling
};

// A budget crossed one of its alert thresholds. Fired once per threshold, scope and window, by
// the call whose commit crossed it, even when many replicas share a Redis store.
struct alert {
    std::string scope;    // "user", "tenant" or "global"
    std::string id;       // the user or tenant; empty for global
    double threshold = 0; // the fraction of the limit, e.g. 0.8
    double spent = 0;     // in the window, in the budget's unit
    double limit = 0;
    budget::unit unit = unit::tokens;
};

// Where one scope stands in the current window, in the budget's unit.
struct balance {
    std::string scope; // "user", "tenant" or "global"
    std::string id;    // the user or tenant; empty for global
    double limit = 0;
    double spent = 0;                  // committed in the window
    double held = 0;                   // reserved by calls in flight
    double remaining = 0;              // what a new call may still reserve
    std::chrono::milliseconds reset{}; // until some spending leaves the window
};

struct options {
    budget::unit unit = unit::tokens;
    budget::window window = window::day();
    std::vector<double> alert_at{0.8, 1.0}; // fractions of a limit, in (0, 1], at most 8
    std::function<void(const alert&)> on_alert;
    // Prices: needed to count in dollars, and to fill response::cost.
    std::optional<cost::price_table> prices;
    // A response whose model has no price (its cost stays unset), or a commit or release the
    // store could not record; they are never silent.
    std::function<void(const error&)> on_error;
    // Lower max_tokens to what the budget has left rather than refuse, as long as at least
    // min_output_tokens fit.
    bool clamp_max_tokens = true;
    std::uint32_t min_output_tokens = 16;
    std::uint32_t assumed_output_tokens = 1024; // reserved for a request without max_tokens
    bool fail_open = false;                     // admit calls unchecked when the store is unreachable
    std::string prefix = "llm";
};

template <store_backend Store, token_counter Counter = token::estimator>
class tokens {
public:
    // What a reserve() held, handed back to commit() or release().
    struct reservation {
        // User-provided, so that making one in place (as a result does) does not first clear
        // all of its few hundred bytes: only the members below are set.
        reservation() noexcept {}

        llm::detail::inline_vector<store::key_text, 3> keys;
        llm::detail::inline_vector<budget::scope, 3> scopes; // of each key
        double slot = 0;                                     // the window's slot when reserved
        double held = 0;                                     // in every scope, in the store's unit
        std::uint64_t input_tokens = 0;                      // the counter's estimate
        llm::detail::small_string<32> model;                 // to price the usage: dollar budgets only
    };

    // Refuses impossible settings (negative limits, a dollar budget without prices, alert
    // thresholds outside (0, 1]) with errc::invalid_configuration; the constructor throws
    // std::system_error for the same reasons.
    static result<tokens> create(Store store, budget::limits l, budget::options o = {}, Counter counter = {})
    {
        BOOST_OUTCOME_TRY(check(l, o));
        return tokens(std::move(store), std::move(l), std::move(o), std::move(counter), 0);
    }

    tokens(Store store, budget::limits l, budget::options o = {}, Counter counter = {})
        : tokens(create(std::move(store), std::move(l), std::move(o), std::move(counter)).value())
    {
    }

    auto reserve(request& r, time_point now)
    {
        if constexpr (llm::detail::is_awaitable<decltype(counter_.count(r))>::value)
            return reserve_after_count(r, now);
        else
            return reserve_counted(r, static_cast<std::uint64_t>(counter_.count(r)), now);
    }

    auto commit(reservation res, const usage& used, time_point now)
    {
        usage billed = used;
        if (billed.input_tokens == 0)
            billed.input_tokens = res.input_tokens; // the call was sent: its prompt counts
        if constexpr (requires { counter_.calibrate(res.input_tokens, used.input_tokens); })
            if (used.input_tokens != 0)
                counter_.calibrate(res.input_tokens, used.input_tokens);
        double spent = static_cast<double>(billed.total());
        if (options_.unit == unit::usd) {
            auto cost = options_.prices->micro_cost(res.model, billed);
            spent = cost ? std::ceil(cost.value()) : res.held; // unpriced: charge what was held
        }
        return settle_all(std::move(res), spent, now);
    }

    auto release(reservation res, time_point now) { return settle_all(std::move(res), 0, now); }

    // The cost of a response in US dollars, for response::cost; unset (and reported through
    // on_error) when the price table does not know the model.
    std::optional<double> price(std::string_view model, const usage& used) const
    {
        if (!options_.prices)
            return std::nullopt;
        auto cost = options_.prices->cost(model, used);
        if (cost)
            return cost.value();
        report(cost.error());
        return std::nullopt;
    }

    // Where each scope of `who` that has a limit stands, reserving nothing: for dashboards, and
    // for the headers a server sends with its answer.
    auto status(const identity& who, time_point now)
    {
        const auto at = options_.window.at(now);
        store::steps<hold> peek; // a hold of nothing changes nothing and reports the scope
        std::vector<balance> out;
        for_each_scope(who, [&](budget::scope s, std::string_view id, double limit) {
            peek.push_back({key(s, id, at), hold{at.slot, at.slots, limit, 0, 0, at.keep}});
            out.push_back({.scope = name_of(s), .id = std::string(id), .limit = limit, .reset = at.until_reset});
        });
        if (peek.empty())
            return store::ready<Store>(result<std::vector<balance>>(std::move(out)));
        return store::apply_then(store_, std::move(peek), now,
                                 [this, out = std::move(out)](result<store::outcomes<hold::outcome>> done) mutable
                                 -> result<std::vector<balance>> {
                                     if (!done)
                                         return std::move(done).error();
                                     const double scale = store_unit();
                                     for (std::size_t i = 0; i < out.size(); ++i) {
                                         auto& b = out[i];
                                         b.spent = static_cast<double>(done.value()[i].spent);
                                         b.held = static_cast<double>(done.value()[i].held);
                                         b.remaining = std::max(0.0, b.limit - b.spent - b.held) / scale;
                                         b.limit /= scale;
                                         b.spent /= scale;
                                         b.held /= scale;
                                     }
                                     return out;
                                 });
    }

    const budget::limits& limits() const noexcept { return limits_; }
    const budget::options& options() const noexcept { return options_; }

private:
    tokens(Store store, budget::limits l, budget::options o, Counter counter, int)
        : store_(std::move(store)), limits_(std::move(l)), options_(std::move(o)), counter_(std::move(counter))
    {
        for (const double a : options_.alert_at)
            thresholds_.push_back(a * 1000);
        const double scale = store_unit();
        for (const auto s : {scope::user, scope::tenant, scope::global}) {
            frames_.emplace_back(options_.prefix, std::string_view(name_of(s), 1), "budget:");
            const auto& limit = s == scope::user     ? limits_.per_user
                                : s == scope::tenant ? limits_.per_tenant
                                                     : limits_.global;
            in_store_unit_[static_cast<std::size_t>(s)] = limit.value_or(0) * scale;
        }
    }

    // A counter that answers later (a provider's count endpoint) is awaited first.
    asio::awaitable<result<reservation>> reserve_after_count(request& r, time_point now)
    {
        const auto input = static_cast<std::uint64_t>(co_await counter_.count(r));
        if constexpr (store::answers_later<Store>)
            co_return co_await reserve_counted(r, input, now);
        else
            co_return reserve_counted(r, input, now);
    }

    auto reserve_counted(request& r, std::uint64_t input, time_point now)
    {
        if constexpr (store::answers_later<Store>)
            return reserve_later(r, input, now);
        else
            return reserve_now(r, input, now);
    }

    // What a reservation asks of every scope, in the store's unit: `want`, or at least `minimum`.
    struct ask {
        double want = 0;
        double minimum = 0;
    };

    // What a reservation settles before asking the store: r.max_tokens within the per-request
    // ceiling, `res` filled (a key for every scope with a limit) but for what the store grants,
    // and what to ask of each scope. An error when the call is refused without asking. Inline:
    // called, it returned through memory what the caller read back at once.
    LLM_ALWAYS_INLINE std::optional<error> plan(request& r, std::uint64_t input, const window::position& at,
                                                reservation& res, std::uint64_t& output, ask& asked) const
    {
        output = r.max_tokens.value_or(options_.assumed_output_tokens);
        if (limits_.per_request) {
            const auto ceiling = static_cast<std::uint64_t>(*limits_.per_request);
            if (input + std::min<std::uint64_t>(output, options_.min_output_tokens) > ceiling)
                return error{errc::budget_exceeded, "the prompt alone is about " + std::to_string(input) +
                                                        " tokens, beyond the per-request ceiling of " +
                                                        std::to_string(ceiling) +
                                                        " tokens with room for an answer: shorten it"};
            output = std::min(output, ceiling - input);
        }
        // The reservation bounds the answer only if max_tokens does.
        r.max_tokens = static_cast<std::uint32_t>(output);
        res.input_tokens = input;
        if (options_.unit == unit::usd)
            res.model = r.model;
        res.slot = at.slot;
        const auto fewest = std::min<std::uint64_t>(output, options_.min_output_tokens);
        asked.want = static_cast<double>(input + output);
        asked.minimum = static_cast<double>(input + (options_.clamp_max_tokens ? fewest : output));
        if (options_.unit == unit::usd) {
            auto priced = amount(r.model, input, output);
            if (!priced)
                return std::move(priced).error();
            asked.want = priced.value();
            asked.minimum = options_.clamp_max_tokens ? amount(r.model, input, fewest).value() : asked.want;
        }
        for_each_scope(r.identity, [&](budget::scope s, std::string_view id, double) {
            res.scopes.push_back(s);
            res.keys.emplace_back_made([&] { return key(s, id, at); });
        });
        return std::nullopt;
    }

    // The hold of the i-th scope of `res`.
    hold hold_of(const reservation& res, std::size_t i, const window::position& at, const ask& asked) const
    {
        return hold{at.slot, at.slots, limit_of(res.scopes[i]), asked.want, asked.minimum, at.keep};
    }

    store::steps<hold> holds(const reservation& res, const window::position& at, const ask& asked) const
    {
        store::steps<hold> batch;
        for (std::size_t i = 0; i < res.keys.size(); ++i)
            batch.emplace_back(res.keys[i], hold_of(res, i, at, asked));
        return batch;
    }

    // A store that answers at once: the reservation is made and decided inside the result that
    // returns it, never moved. One that answers each step directly (store::memory) is asked with
    // the reservation's own keys, as no batch is needed.
    result<reservation> reserve_now(request& r, std::uint64_t input, time_point now)
    {
        result<reservation> out(std::in_place_type<reservation>);
        auto& res = out.assume_value();
        const auto at = options_.window.at(now);
        std::uint64_t output = 0;
        ask asked;
        if (auto refusal = plan(r, input, at, res, output, asked)) {
            out = std::move(*refusal);
            return out;
        }
        if (res.keys.empty())
            return out;
        store::steps<settle> give_back;
        // Made by the call that decides: an optional<error> declared empty, then assigned, is
        // cleared whole first.
        auto refusal = [&] {
            if constexpr (store::applies_directly<Store, hold>) {
                store::outcomes<hold::outcome> held;
                hold h = hold_of(res, 0, at, asked);
                bool alike = true; // every scope granted, and the same: the usual call, decided here
                for (std::size_t i = 0; i < res.keys.size(); ++i) {
                    h.limit = limit_of(res.scopes[i]);
                    held.emplace_back_made([&] { return store_.apply_one(res.keys[i], h, now); });
                    alike = alike && held[i].granted != 0 && held[i].granted == held[0].granted;
                }
                if (alike) {
                    grant(r, res, static_cast<double>(held[0].granted), input, output);
                    return std::optional<error>();
                }
                return decide_holds(r, res, at, input, output, held, give_back);
            } else {
                return decide(r, res, at, input, output, store::apply_batch(store_, holds(res, at, asked), now),
                              give_back);
            }
        }();
        if (!give_back.empty())
            if (auto given = store::apply_batch(store_, give_back, now); !given)
                report(given.error());
        if (refusal)
            out = std::move(*refusal);
        return out;
    }

    auto reserve_later(request& r, std::uint64_t input, time_point now)
    {
        reservation res;
        const auto at = options_.window.at(now);
        std::uint64_t output = 0;
        ask asked;
        if (auto refusal = plan(r, input, at, res, output, asked))
            return refuse_now(std::move(*refusal));
        if (res.keys.empty())
            return finish(std::move(res), {}, now);
        auto batch = holds(res, at, asked);
        return store::apply_then(store_, std::move(batch), now,
                                 [this, &r, res = std::move(res), at, input, output,
                                  now](result<store::outcomes<hold::outcome>> done) mutable {
                                     store::steps<settle> give_back;
                                     auto refusal = decide(r, res, at, input, output, done, give_back);
                                     if (refusal)
                                         return finish(std::move(*refusal), std::move(give_back), now);
                                     return finish(std::move(res), std::move(give_back), now);
                                 });
    }

    static result<void> check(const budget::limits& l, const budget::options& o)
    {
        if (l.per_request && *l.per_request <= 0)
            return fail(errc::invalid_configuration, "budget: the per-request ceiling must be positive");
        for (auto [name, v] :
             {std::pair{"per_user", l.per_user}, std::pair{"per_tenant", l.per_tenant}, std::pair{"global", l.global}})
            if (v && !(*v > 0 && std::isfinite(*v)))
                return fail(errc::invalid_configuration,
                            std::string("budget: the ") + name + " limit must be a positive number");
        if (o.unit == unit::usd && !o.prices)
            return fail(errc::invalid_configuration, "budget: a budget in dollars needs options::prices");
        if (o.alert_at.size() > 8)
            return fail(errc::invalid_configuration, "budget: at most 8 alert thresholds");
        for (const double a : o.alert_at)
            if (!(a > 0 && a <= 1))
                return fail(errc::invalid_configuration,
                            "budget: alert thresholds are fractions of a limit, in (0, 1], e.g. 0.8");
        if (o.clamp_max_tokens && o.min_output_tokens == 0)
            return fail(errc::invalid_configuration, "budget: min_output_tokens must be at least 1");
        return success();
    }

    // The scopes with a limit, in the order they are held: user, tenant, global.
    template <class F>
    void for_each_scope(const identity& who, F&& f) const
    {
        if (limits_.per_user)
            f(scope::user, who.user, limit_of(scope::user));
        if (limits_.per_tenant)
            f(scope::tenant, who.tenant, limit_of(scope::tenant));
        if (limits_.global)
            f(scope::global, std::string_view(), limit_of(scope::global));
    }

    // Store units per budget unit: dollars are kept as micro-dollars.
    double store_unit() const noexcept { return options_.unit == unit::usd ? 1e6 : 1; }

    // In the store's unit.
    double limit_of(budget::scope s) const { return in_store_unit_[static_cast<std::size_t>(s)]; }

    store::key_text key(budget::scope s, std::string_view id, const window::position& at) const
    {
        return frames_[static_cast<std::size_t>(s)](id, at.key);
    }

    // Input and output tokens in the store's unit: tokens, or micro-dollars rounded up.
    result<double> amount(std::string_view model, std::uint64_t input, std::uint64_t output) const
    {
        if (options_.unit == unit::tokens)
            return static_cast<double>(input + output);
        BOOST_OUTCOME_TRY(auto cost, options_.prices->micro_cost(model, usage{input, output, 0}));
        return std::ceil(cost);
    }

    // The output tokens `granted` leaves room for after the prompt.
    std::uint64_t output_within(std::string_view model, double granted, std::uint64_t input, std::uint64_t output) const
    {
        if (options_.unit == unit::tokens)
            return static_cast<std::uint64_t>(granted) - input;
        // Dollars: the largest output whose cost still fits, found by halving.
        std::uint64_t lo = 0;
        std::uint64_t hi = output;
        while (lo < hi) {
            const auto mid = lo + (hi - lo + 1) / 2;
            if (amount(model, input, mid).value() <= granted)
                lo = mid;
            else
                hi = mid - 1;
        }
        return lo;
    }

    // What the scopes' holds decide: an error when the call is refused (or the store is
    // unreachable and the budget fails closed), else `res` is complete and r.max_tokens fits it.
    // Either way give_back receives what the scopes hold beyond the decision.
    std::optional<error> decide(request& r, reservation& res, const window::position& at, std::uint64_t input,
                                std::uint64_t output, const result<store::outcomes<hold::outcome>>& done,
                                store::steps<settle>& give_back)
    {
        if (!done) {
            if (!options_.fail_open)
                return error{errc::store_unavailable,
                             "budget store unavailable, call refused (fail-closed): " + done.error().message};
            res.keys.clear(); // admitted unchecked: nothing is held, nothing to settle
            res.scopes.clear();
            res.slot = 0;
            res.held = 0;
            return std::nullopt;
        }
        return decide_holds(r, res, at, input, output, done.value(), give_back);
    }

    std::optional<error> decide_holds(request& r, reservation& res, const window::position& at, std::uint64_t input,
                                      std::uint64_t output, const store::outcomes<hold::outcome>& held,
                                      store::steps<settle>& give_back)
    {
        std::optional<std::size_t> refused;
        double granted = std::numeric_limits<double>::infinity();
        for (std::size_t i = 0; i < held.size(); ++i) {
            if (held[i].granted == 0 && !refused)
                refused = i;
            granted = std::min(granted, static_cast<double>(held[i].granted));
        }
        // Every scope holds the smallest grant: give the rest back (all of it when refused).
        for (std::size_t i = 0; i < held.size(); ++i) {
            const double extra = static_cast<double>(held[i].granted) - (refused ? 0 : granted);
            if (extra > 0)
                give_back.emplace_back(res.keys[i], settle{at.slot, at.slots, 0, extra, 0, {}, at.keep});
        }
        if (refused) {
            const auto s = res.scopes[*refused];
            const auto& h = held[*refused];
            error e{errc::budget_exceeded,
                    options_.window.describe() + " budget of " + describe(limit_of(s)) + " for " +
                        (s == scope::global ? std::string("all calls")
                                            : std::string(name_of(s)) + " '" +
                                                  store::id_in(res.keys[*refused], options_.prefix) + "'") +
                        " is spent: " + describe(static_cast<double>(h.spent)) + " used, " +
                        describe(static_cast<double>(h.held)) + " held by calls in flight"};
            e.retry_after = at.until_reset;
            return e;
        }
        grant(r, res, granted, input, output);
        return std::nullopt;
    }

    // Every scope holds `granted` for the call: max_tokens is lowered to what it leaves room for.
    void grant(request& r, reservation& res, double granted, std::uint64_t input, std::uint64_t output) const
    {
        res.held = granted;
        const auto within = output_within(res.model, granted, input, output);
        if (within < output)
            r.max_tokens = static_cast<std::uint32_t>(within);
    }

    std::string describe(double amount) const
    {
        if (options_.unit == unit::tokens)
            return std::to_string(static_cast<std::int64_t>(amount)) + " tokens";
        const auto cents = static_cast<std::int64_t>(std::ceil(amount / 1e4));
        const auto rest = std::to_string(cents % 100);
        return "$" + std::to_string(cents / 100) + "." + (rest.size() < 2 ? "0" : "") + rest;
    }

    // The decision, after giving back what the scopes held beyond it.
    auto finish(result<reservation>&& decision, store::steps<settle>&& give_back, time_point now)
    {
        if (give_back.empty())
            return store::ready<Store>(std::move(decision));
        return store::apply_then(store_, std::move(give_back), now,
                                 [this, d = std::move(decision)](const auto& done) mutable {
                                     if (!done)
                                         report(done.error());
                                     return std::move(d);
                                 });
    }

    auto refuse_now(error e) { return store::ready<Store>(result<reservation>(std::move(e))); }

    auto settle_all(reservation&& res, double spent, time_point now)
    {
        const auto at = options_.window.at(now);
        const double slot = options_.window.is_rolling() ? at.slot : res.slot;
        if constexpr (store::applies_directly<Store, settle>) {
            // Each scope settled at once under the reservation's own keys: no batch of copies.
            settle op{slot, at.slots, 0, res.held, spent, thresholds_, at.keep};
            for (std::size_t i = 0; i < res.keys.size(); ++i) {
                op.limit = limit_of(res.scopes[i]);
                alert_fired(res, i, store_.apply_one(res.keys[i], op, now));
            }
        } else {
            store::steps<settle> batch;
            for (std::size_t i = 0; i < res.keys.size(); ++i)
                batch.emplace_back(res.keys[i], settle{slot, at.slots, limit_of(res.scopes[i]), res.held, spent,
                                                       thresholds_, at.keep});
            if (batch.empty())
                return store::ready<Store>();
            if constexpr (store::answers_later<Store>)
                return store::apply_then(store_, std::move(batch), now,
                                         [this, res = std::move(res)](result<store::outcomes<settle::outcome>> done) {
                                             settled(res, done);
                                         });
            else
                return settled(res, store::apply_batch(store_, batch, now));
        }
    }

    void settled(const reservation& res, const result<store::outcomes<settle::outcome>>& done) const
    {
        if (!done)
            return report(
                error{errc::store_unavailable, "budget: usage could not be recorded: " + done.error().message});
        for (std::size_t i = 0; i < done.value().size(); ++i)
            alert_fired(res, i, done.value()[i]);
    }

    void alert_fired(const reservation& res, std::size_t i, const settle::outcome& o) const
    {
        if (!options_.on_alert || o.fired == 0)
            return;
        const double scale = store_unit();
        for (std::size_t t = 0; t < options_.alert_at.size(); ++t)
            if ((o.fired >> t) & 1)
                options_.on_alert(alert{.scope = name_of(res.scopes[i]),
                                        .id = store::id_in(res.keys[i], options_.prefix),
                                        .threshold = options_.alert_at[t],
                                        .spent = static_cast<double>(o.spent) / scale,
                                        .limit = limit_of(res.scopes[i]) / scale,
                                        .unit = options_.unit});
    }

    void report(const error& e) const
    {
        if (options_.on_error)
            options_.on_error(e);
    }

    Store store_;
    budget::limits limits_;
    budget::options options_;
    LLM_NO_UNIQUE_ADDRESS Counter counter_;
    llm::detail::inline_vector<double, 8> thresholds_;
    llm::detail::inline_vector<store::key_frame, 3> frames_; // of each scope's keys
    double in_store_unit_[3] = {};                           // each scope's limit, micro-dollars for dollars
};

} // namespace llm::budget
