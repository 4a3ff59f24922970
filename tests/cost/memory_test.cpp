// store::memory's own table: every key stays findable through growth, erasures (which move the
// rest of a probe run back) and sweeps of expired entries, checked against a plain map.
#include <llm/store/memory.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <random>
#include <string>

using namespace std::chrono_literals;

namespace {

// What the store should hold: each key's value and when it expires.
struct expected {
    std::string value;
    llm::time_point expires;
};

} // namespace

TEST_CASE("store::memory agrees with a plain map through adds, updates, expiries and erasures", "[cost][store]")
{
    llm::store::memory m(1); // one shard: every key shares one table and its probe runs
    std::map<std::string, expected> model;
    std::mt19937 random(20261124);
    auto now = llm::time_point{} + 1000h;
    const auto key_of = [](std::size_t i) { return "llm:{u:user-" + std::to_string(i) + "}:k"; };

    for (int op = 0; op < 20'000; ++op) {
        const std::string key = key_of(random() % 600);
        switch (random() % 4) {
        case 0: // erase, through a time to live of zero
            REQUIRE(m.put(key, "", 0ms, now));
            model.erase(key);
            break;
        case 1: // erase, through an operation that keeps nothing
        {
            const llm::store::step<llm::store::add> gone{key, llm::store::add{.delta = 1, .keep = 0ms}};
            REQUIRE(m.apply(std::span(&gone, 1), now));
            model.erase(key);
            break;
        }
        default: { // add or replace, for 1 to 40 ms
            const auto ttl = std::chrono::milliseconds(1 + random() % 40);
            const std::string value = key + "#" + std::to_string(op);
            REQUIRE(m.put(key, value, ttl, now));
            model[key] = {value, now + ttl};
        }
        }
        now += std::chrono::milliseconds(random() % 2);
        // Every key, present or not, answers as the model does.
        if (op % 1000 == 999)
            for (std::size_t i = 0; i < 600; ++i) {
                const auto k = key_of(i);
                const auto it = model.find(k);
                const bool live = it != model.end() && it->second.expires > now;
                const auto got = m.get(k, now);
                REQUIRE(got);
                REQUIRE(got.value().has_value() == live);
                if (live)
                    REQUIRE(*got.value() == it->second.value);
            }
    }
}

TEST_CASE("store::memory sweeps expired entries as a shard grows, and keeps the live ones", "[cost][store]")
{
    llm::store::memory m(1);
    auto now = llm::time_point{} + 1000h;
    for (int i = 0; i < 40; ++i)
        REQUIRE(m.put("short-" + std::to_string(i), "s", 1ms, now));
    for (int i = 0; i < 24; ++i)
        REQUIRE(m.put("long-" + std::to_string(i), "l", 1h, now));
    CHECK(m.size() == 64);
    now += 2ms;
    REQUIRE(m.put("one more", "x", 1h, now)); // reaches the sweep's size: the 40 expired go
    CHECK(m.size() == 25);
    for (int i = 0; i < 24; ++i)
        CHECK(m.get("long-" + std::to_string(i), now).value() == "l");
    CHECK(m.get("short-0", now).value() == std::nullopt);
}

TEST_CASE("store::memory tells keys apart by every byte, at every length", "[cost][store]")
{
    using llm::store::detail::same_text;
    for (std::size_t n = 0; n <= 40; ++n) {
        const std::string key(n, 'k');
        CHECK(same_text(key, std::string(n, 'k')));
        CHECK_FALSE(same_text(key, std::string(n + 1, 'k'))); // a prefix is not the key
        if (n > 0)
            CHECK_FALSE(same_text(key, std::string(n - 1, 'k')));
        for (std::size_t at = 0; at < n; ++at) {
            std::string other = key;
            other[at] = 'x';
            INFO("length " << n << ", byte " << at);
            CHECK_FALSE(same_text(key, other));
            CHECK_FALSE(same_text(other, key));
        }
    }
}
