// Token and dollar budgets: per request, per user, per tenant and global, over calendar days
// and rolling windows, on every store.
#include <llm/budget/tokens.hpp>

#include "backends.hpp"
#include "calls.hpp"

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

using namespace llm;
using namespace std::chrono_literals;

namespace {

using test::call;
using test::day_one;
using test::fixed_counter;

template <class Store>
using budget_of = budget::tokens<Store, fixed_counter>;

} // namespace

TEST_CASE("the per-request ceiling refuses long prompts and caps max_tokens", "[cost][budget]")
{
    store::memory s;
    budget_of<store::memory> b(s, {.per_request = 1000}, {}, fixed_counter{100});

    auto r = call("alice", 4000);
    auto res = b.reserve(r, day_one);
    REQUIRE(res);
    CHECK(*r.max_tokens == 900); // input + output cannot pass 1000

    auto unset = call("alice", std::nullopt);
    REQUIRE(b.reserve(unset, day_one));
    CHECK(*unset.max_tokens == 900);

    budget_of<store::memory> tight(s, {.per_request = 1000}, {}, fixed_counter{990});
    auto r2 = call("alice");
    auto refused = tight.reserve(r2, day_one);
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == errc::budget_exceeded);
    CHECK_FALSE(refused.error().retry_after); // waiting does not make a prompt shorter
    CHECK(refused.error().message.find("shorten it") != std::string::npos);
}

TEST_CASE("a request without max_tokens is given the output it reserved", "[cost][budget]")
{
    store::memory s;
    budget_of<store::memory> b(s, {.per_user = 10'000}, {.assumed_output_tokens = 512});
    auto r = call("alice", std::nullopt);
    REQUIRE(b.reserve(r, day_one));
    CHECK(*r.max_tokens == 512); // otherwise the answer could outgrow its reservation
}

TEMPLATE_TEST_CASE("a daily user budget reserves, commits the real usage, and resets at midnight", "[cost][budget]",
                   test::memory_backend, test::sqlite_backend, test::redis_backend)
{
    TestType t;
    budget_of<decltype(t.store)> b(t.store, {.per_user = 1000});
    const auto morning = day_one + 9h;

    auto r = call("alice", 200); // holds 100 + 200
    auto first = t.answer(b.reserve(r, morning));
    REQUIRE(first);
    t.run([&] { return b.commit(std::move(first).value(), usage{100, 50, 0}, morning); }); // spends 150

    // 850 left: two more calls of 300 fit while both are in flight, a third does not.
    auto r2 = call("alice", 200);
    auto r3 = call("alice", 200);
    auto second = t.answer(b.reserve(r2, morning));
    auto third = t.answer(b.reserve(r3, morning));
    REQUIRE(second);
    REQUIRE(third);
    auto r4 = call("alice", 200);
    auto fourth = t.answer(b.reserve(r4, morning));
    REQUIRE(fourth); // 250 left: clamped to 150 output tokens
    CHECK(*r4.max_tokens == 150);
    auto r5 = call("alice", 200);
    auto refused = t.answer(b.reserve(r5, morning));
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == errc::budget_exceeded);
    REQUIRE(refused.error().retry_after);
    CHECK(*refused.error().retry_after == 15h); // until midnight UTC
    CHECK(refused.error().message.find("daily (UTC) budget of 1000 tokens for user 'alice'") != std::string::npos);
    CHECK(refused.error().message.find("150 tokens used, 850 tokens held") != std::string::npos);

    // Bob has his own budget.
    auto rb = call("bob", 200);
    CHECK(t.answer(b.reserve(rb, morning)));

    // A released reservation gives everything back.
    t.run([&] { return b.release(std::move(second).value(), morning); });
    auto r6 = call("alice", 200);
    CHECK(t.answer(b.reserve(r6, morning)));

    // The next day starts afresh.
    auto r7 = call("alice", 700);
    CHECK(t.answer(b.reserve(r7, day_one + 24h)));
    CHECK(*r7.max_tokens == 700);
}

TEMPLATE_TEST_CASE("a call refused by the tenant gives back what the user scope held", "[cost][budget]",
                   test::memory_backend, test::sqlite_backend, test::redis_backend)
{
    TestType t;
    budget_of<decltype(t.store)> b(t.store, {.per_user = 600, .per_tenant = 500}, {.clamp_max_tokens = false});
    auto a = call("alice", 200);
    REQUIRE(t.answer(b.reserve(a, day_one)));
    auto b1 = call("bob", 200);
    auto refused = t.answer(b.reserve(b1, day_one)); // 300 + 300 > 500
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("tenant 'acme'") != std::string::npos);
    // Bob's own scope holds nothing for the refused call: in another tenant his whole 600 is
    // there, and 500 of it fits under that tenant's limit.
    auto b2 = call("bob", 400, "other");
    CHECK(t.answer(b.reserve(b2, day_one)));
}

TEMPLATE_TEST_CASE("alerts fire once per threshold, scope and window", "[cost][budget]", test::memory_backend,
                   test::sqlite_backend, test::redis_backend)
{
    TestType t;
    std::vector<budget::alert> alerts;
    budget_of<decltype(t.store)> b(t.store, {.per_user = 1000, .global = 100'000},
                                   {.on_alert = [&](const budget::alert& a) { alerts.push_back(a); }});
    auto spend = [&](time_point now, std::uint64_t output) {
        auto r = call("alice", 200);
        auto res = t.answer(b.reserve(r, now));
        REQUIRE(res);
        t.run([&] { return b.commit(std::move(res).value(), usage{100, output, 0}, now); });
    };
    spend(day_one, 600); // 700: below 80 %
    CHECK(alerts.empty());
    spend(day_one, 50); // 850: crosses 80 % of the user's budget
    REQUIRE(alerts.size() == 1);
    CHECK(alerts[0].scope == "user");
    CHECK(alerts[0].id == "alice");
    CHECK(alerts[0].threshold == 0.8);
    CHECK(alerts[0].spent == 850);
    CHECK(alerts[0].limit == 1000);
    // 1150: the provider billed more than was held; only 100 % fires, 80 % already has.
    spend(day_one, 200);
    REQUIRE(alerts.size() == 2);
    CHECK(alerts[1].threshold == 1.0);
    CHECK(alerts[1].spent == 1150);

    spend(day_one + 24h, 750); // a new day: 80 % again
    REQUIRE(alerts.size() == 3);
    CHECK(alerts[2].threshold == 0.8);
}

TEMPLATE_TEST_CASE("a rolling window forgets spending slot by slot", "[cost][budget]", test::memory_backend,
                   test::sqlite_backend, test::redis_backend)
{
    TestType t;
    budget_of<decltype(t.store)> b(t.store, {.per_user = 1000},
                                   {.window = budget::window::rolling(24h, 1h).value(), .clamp_max_tokens = false});
    const auto noon = day_one + 12h;
    auto r = call("alice", 700);
    auto res = t.answer(b.reserve(r, noon));
    REQUIRE(res);
    t.run([&] { return b.commit(std::move(res).value(), usage{100, 700, 0}, noon); }); // 800 spent at noon

    auto r2 = call("alice", 200);
    auto refused = t.answer(b.reserve(r2, noon + 23h));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("rolling 24h") != std::string::npos);
    CHECK(*refused.error().retry_after == 1h); // the next slot boundary
    auto r3 = call("alice", 200);
    CHECK(t.answer(b.reserve(r3, noon + 24h))); // noon's slot has left the window
}

TEST_CASE("a dollar budget prices the reservation and the real usage", "[cost][budget]")
{
    auto prices = cost::price_table::parse(
        R"({"as_of": "2026-11-01", "models": {"gpt-4o-mini": {"input": 1.0, "output": 10.0}}})");
    REQUIRE(prices);
    store::memory s;
    std::vector<error> errors;
    budget_of<store::memory> b(
        s, {.per_user = 0.01},
        {.unit = budget::unit::usd, .prices = prices.value(), .on_error = [&](const error& e) { errors.push_back(e); }},
        fixed_counter{1000});
    // 1000 input tokens cost $0.001; 1000 output tokens $0.01: only 900 fit in the $0.01.
    auto r = call("alice", 1000);
    auto res = b.reserve(r, day_one);
    REQUIRE(res);
    CHECK(*r.max_tokens == 900);
    b.commit(std::move(res).value(), usage{1000, 400, 0}, day_one); // $0.005 spent
    auto r2 = call("alice", 1000);
    REQUIRE(b.reserve(r2, day_one));
    CHECK(*r2.max_tokens == 400);

    CHECK(b.price("gpt-4o-mini-2024-07-18", usage{1'000'000, 0, 0}) == 1.0);
    CHECK_FALSE(b.price("mystery-model", usage{10, 10, 0}));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].message.find("mystery-model") != std::string::npos);

    auto unknown = call("alice");
    unknown.model = "mystery-model";
    auto refused = b.reserve(unknown, day_one);
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == errc::invalid_configuration);
    CHECK(refused.error().message.find("as of 2026-11-01") != std::string::npos);
}

TEST_CASE("impossible budgets are refused at construction", "[cost][budget]")
{
    store::memory s;
    using budget_t = budget_of<store::memory>;
    auto message_of = [&](budget::limits l, budget::options o = {}) {
        auto made = budget_t::create(s, l, std::move(o));
        REQUIRE_FALSE(made);
        CHECK(made.error() == errc::invalid_configuration);
        return made.error().message;
    };
    CHECK(message_of({.per_request = 0}).find("per-request") != std::string::npos);
    CHECK(message_of({.per_user = -5}).find("per_user") != std::string::npos);
    CHECK(message_of({.global = 0}).find("global") != std::string::npos);
    CHECK(message_of({.per_user = 10}, {.unit = budget::unit::usd}).find("prices") != std::string::npos);
    CHECK(message_of({.per_user = 10}, {.alert_at = {0.5, 1.5}}).find("(0, 1]") != std::string::npos);
    CHECK(message_of({.per_user = 10}, {.min_output_tokens = 0}).find("min_output_tokens") != std::string::npos);
    CHECK_FALSE(budget::window::rolling(0h, 1h));
    CHECK_FALSE(budget::window::rolling(25h, 2h));
    CHECK_THROWS_AS(budget_t(s, {.per_tenant = -1}), std::system_error);
}

TEST_CASE("an unreachable budget store refuses calls, or admits them when told to fail open", "[cost][budget]")
{
    std::vector<error> errors;
    budget::tokens<test::unreachable_store, fixed_counter> closed(
        test::unreachable_store{}, {.per_user = 1000}, {.on_error = [&](const error& e) { errors.push_back(e); }});
    auto r = call("alice");
    auto refused = closed.reserve(r, day_one);
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == errc::store_unavailable);

    budget::tokens<test::unreachable_store, fixed_counter> open(test::unreachable_store{}, {.per_user = 1000},
                                                                {.fail_open = true});
    auto admitted = open.reserve(r, day_one);
    REQUIRE(admitted);
    open.commit(std::move(admitted).value(), usage{1, 1, 0}, day_one); // nothing to record

    // A commit that cannot be recorded is reported, not lost in silence.
    budget::tokens<test::unreachable_store, fixed_counter> broken(
        test::unreachable_store{}, {.per_user = 1000}, {.on_error = [&](const error& e) { errors.push_back(e); }});
    decltype(broken)::reservation held;
    held.keys.push_back("llm:{u:alice}:budget:d20781");
    held.scopes.push_back(budget::scope::user);
    held.held = 300;
    broken.commit(std::move(held), usage{1, 1, 0}, day_one);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].message.find("could not be recorded") != std::string::npos);
}

TEMPLATE_TEST_CASE("many threads and users on one tenant budget never spend one token beyond it", "[cost][budget]",
                   test::memory_backend, test::sqlite_backend, test::redis_backend)
{
    TestType t;
    std::atomic<int> alerts_at_100 = 0;
    budget_of<decltype(t.store)> b(t.store, {.per_user = 5000, .per_tenant = 20'000},
                                   {.alert_at = {1.0},
                                    .on_alert =
                                        [&](const budget::alert& a) {
                                            if (a.scope == "tenant")
                                                ++alerts_at_100;
                                        },
                                    .clamp_max_tokens = false},
                                   fixed_counter{50});
    std::atomic<std::int64_t> charged = 0;
    std::vector<std::thread> threads;
    for (int th = 0; th < 4; ++th)
        threads.emplace_back([&, th] {
            for (int i = 0; i < 150; ++i) {
                auto r = call("user" + std::to_string((th * 150 + i) % 7), 100);
                auto res = t.answer(b.reserve(r, day_one));
                if (!res)
                    continue;
                const std::uint64_t out = static_cast<std::uint64_t>(i % 3) * 50; // 0, 50 or 100
                charged += static_cast<std::int64_t>(50 + out);
                t.run([&] { return b.commit(std::move(res).value(), usage{50, out, 0}, day_one); });
            }
        });
    for (auto& th : threads)
        th.join();
    CHECK(charged <= 20'000);
    CHECK(charged > 20'000 - 150); // the budget was really used up, not refused early
    CHECK(alerts_at_100 <= 1);
}

TEMPLATE_TEST_CASE("status tells where each scope stands and reserves nothing", "[cost][budget]", test::memory_backend,
                   test::sqlite_backend, test::redis_backend)
{
    TestType t;
    budget_of<decltype(t.store)> b(t.store, {.per_user = 1000, .global = 5000});
    const auto morning = day_one + 9h;
    identity alice{.user = "alice", .tenant = "acme"};

    auto fresh = t.answer(b.status(alice, morning));
    REQUIRE(fresh);
    REQUIRE(fresh.value().size() == 2); // user and global: the tenant has no limit
    CHECK(fresh.value()[0].scope == "user");
    CHECK(fresh.value()[0].id == "alice");
    CHECK(fresh.value()[0].remaining == 1000);
    CHECK(fresh.value()[0].reset == 15h);
    CHECK(fresh.value()[1].scope == "global");
    CHECK(fresh.value()[1].remaining == 5000);

    auto r = call("alice", 200); // holds 300
    auto held = t.answer(b.reserve(r, morning));
    REQUIRE(held);
    for (int i = 0; i < 3; ++i) { // peeking twice changes nothing
        auto now = t.answer(b.status(alice, morning));
        REQUIRE(now);
        CHECK(now.value()[0].held == 300);
        CHECK(now.value()[0].spent == 0);
        CHECK(now.value()[0].remaining == 700);
    }
    t.run([&] { return b.commit(std::move(held).value(), usage{100, 50, 0}, morning); });
    auto after = t.answer(b.status(alice, morning));
    REQUIRE(after);
    CHECK(after.value()[0].held == 0);
    CHECK(after.value()[0].spent == 150);
    CHECK(after.value()[0].remaining == 850);
    CHECK(after.value()[1].spent == 150);
    CHECK(after.value()[1].remaining == 4850);
}

TEST_CASE("status of a dollar budget is in dollars, and an unreachable store is an error", "[cost][budget]")
{
    auto prices = cost::price_table::parse(
        R"({"as_of": "2026-11-01", "models": {"gpt-4o-mini": {"input": 1.0, "output": 2.0}}})");
    REQUIRE(prices);
    store::memory s;
    budget_of<store::memory> b(s, {.per_user = 5.0}, {.unit = budget::unit::usd, .prices = prices.value()});
    auto r = call("alice", 200);
    auto held = b.reserve(r, day_one);
    REQUIRE(held);
    b.commit(std::move(held).value(), usage{1'000'000, 500'000, 0}, day_one); // $1 + $1
    auto st = b.status(identity{.user = "alice"}, day_one);
    REQUIRE(st);
    CHECK(st.value()[0].limit == Approx(5.0));
    CHECK(st.value()[0].spent == Approx(2.0));
    CHECK(st.value()[0].remaining == Approx(3.0));

    budget_of<test::unreachable_store> down(test::unreachable_store{}, {.per_user = 5.0});
    auto failed = down.status(identity{.user = "alice"}, day_one);
    REQUIRE_FALSE(failed);
    CHECK(failed.error() == errc::store_unavailable);
}

TEST_CASE("a calendar-day window finds the day for every window, thread and instant", "[cost][budget]")
{
    // at() remembers the last day it found on each thread: windows in other zones, instants on
    // either side of midnight and time going backwards must each still get their own day.
    const auto utc = budget::window::day();
    const auto kiritimati = budget::window::day(time_zone::locate("Pacific/Kiritimati").value()); // UTC+14
    const auto before_midnight = day_one - 1ms;                                                   // in UTC

    for (int round = 0; round < 2; ++round) {
        CHECK(utc.at(day_one).key.view() == "d20781");
        CHECK(kiritimati.at(day_one).key.view() == "d20781"); // 14:00 there
        CHECK(utc.at(before_midnight).key.view() == "d20780");
        CHECK(utc.at(before_midnight).until_reset == 1ms);
        CHECK(kiritimati.at(day_one + 10h - 1ms).key.view() == "d20781");
        CHECK(kiritimati.at(day_one + 10h).key.view() == "d20782"); // midnight there
        CHECK(kiritimati.at(day_one + 10h).until_reset == 24h);
        CHECK(utc.at(day_one + 10h).key.view() == "d20781");
        CHECK(utc.at(day_one).until_reset == 24h);
    }

    const auto copy = kiritimati; // answers like its original
    CHECK(copy.at(day_one + 10h).key.view() == "d20782");

    std::string other_thread;
    std::thread([&] { other_thread = std::string(utc.at(before_midnight).key.view()); }).join();
    CHECK(other_thread == "d20780");
    CHECK(utc.at(day_one).key.view() == "d20781");
}
