// Store keys: one scope per hash tag, ids that cannot break out of it, and the way back from a
// key to its id for alerts and messages.
#include <llm/store/memory.hpp>
#include <llm/store/store.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <string>

using llm::store::id_in;
using llm::store::scoped_key;

TEST_CASE("scoped_key names the scope in a hash tag and encodes what could end it", "[cost][store]")
{
    CHECK(scoped_key("llm", "u", "alice", "budget:d20781") == "llm:{u:alice}:budget:d20781");
    CHECK(scoped_key("llm", "g", "", "rate0") == "llm:{g:}:rate0");
    CHECK(scoped_key("app", "t", "a}b{c%d", "x") == "app:{t:a%7Db%7Bc%25d}:x");
    CHECK(scoped_key("llm", "u", std::string("tab\there\x7f", 9), "x") == "llm:{u:tab%09here%7F}:x");

    // Longer than the key's own buffer: still whole.
    const std::string long_id(300, 'z');
    const auto k = scoped_key("llm", "u", long_id, "budget:d1");
    CHECK(k.size() == 3 + 4 + 300 + 2 + 9);
    CHECK(k.view().substr(7, 300) == long_id);
}

TEST_CASE("a key_frame makes the same keys as scoped_key, with what follows its tail", "[cost][store]")
{
    const llm::store::key_frame budget("llm", "u", "budget:");
    CHECK(budget("alice", "d20781") == "llm:{u:alice}:budget:d20781");
    CHECK(budget("a}b", "d1").view() == scoped_key("llm", "u", "a}b", "budget:d1").view());
    const llm::store::key_frame rate("app", "k", "rate2");
    CHECK(rate("") == "app:{k:}:rate2");
    CHECK(rate(std::string(100, '{')).size() == 7 + 300 + 7); // every brace encoded
}

// Short frame parts are copied whole and overwritten by the next part: every length around the
// limits of that path gives the same key as plain concatenation.
TEST_CASE("a key_frame joins its parts exactly at every length", "[cost][store]")
{
    for (std::size_t prefix = 1; prefix <= 14; ++prefix)
        for (std::size_t what = 1; what <= 16; ++what) {
            const std::string p(prefix, 'p'), w(what, 'w');
            const llm::store::key_frame frame(p, "u", w);
            for (std::size_t id = 0; id <= 30; ++id)
                for (std::size_t more = 0; more <= 8; ++more) {
                    const std::string i(id, 'i'), m(more, 'm');
                    REQUIRE(frame(i, m).view() == p + ":{u:" + i + "}:" + w + m);
                }
        }
}

TEST_CASE("a key_frame escapes an id and still appends what follows", "[cost][store]")
{
    const llm::store::key_frame budget("llm", "u", "budget:");
    CHECK(budget("a%", "d1") == "llm:{u:a%25}:budget:d1");
    CHECK(budget(std::string("\0x", 2), "d1") == "llm:{u:%00x}:budget:d1");
    // Escaped past the key's own buffer.
    const auto k = budget(std::string(40, '}'), "d20781");
    CHECK(k.size() == 7 + 120 + 9 + 6);
    CHECK(id_in(k, "llm") == std::string(40, '}'));
}

TEST_CASE("operations count time in whole milliseconds, exactly", "[cost][store]")
{
    using namespace std::chrono;
    // Nanoseconds since the epoch are beyond a double's exact integers: converting them before
    // dividing once rounded this up into the next millisecond.
    const llm::time_point t{nanoseconds{1'764'000'000'123'999'999}};
    CHECK(llm::store::milliseconds_of(t) == 1'764'000'000'123.0);
    CHECK(llm::store::milliseconds_of(llm::time_point{nanoseconds{1'764'000'000'124'000'000}}) == 1'764'000'000'124.0);
}

// store::memory hashes and compares keys a word at a time: keys that differ in a single byte,
// at any length and any place (the words' overlapping tails included), stay apart.
TEST_CASE("store::memory keeps apart keys that differ in one byte", "[cost][store]")
{
    using namespace std::chrono_literals;
    llm::store::memory m(1); // one shard: every key meets every other in the same map
    const auto now = llm::time_point{} + 1000h;
    std::set<std::string> keys;
    for (std::size_t length = 0; length <= 40; ++length)
        for (std::size_t at = 0; at < std::max<std::size_t>(length, 1); ++at) {
            std::string k(length, 'k');
            if (length > 0)
                k[at] = 'X';
            keys.insert(k);
        }
    for (const auto& k : keys)
        REQUIRE(m.put(k, "value of " + k, 1h, now));
    CHECK(m.size() == keys.size());
    for (const auto& k : keys) {
        auto got = m.get(k, now);
        REQUIRE(got);
        CHECK(got.value() == "value of " + k);
    }
    CHECK(m.get("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", now).value() == std::nullopt); // 41 bytes: never put
}

TEST_CASE("id_in gives back the id a key was made from", "[cost][store]")
{
    for (const std::string& id : {std::string("alice"), std::string(), std::string("a}b{c%d"),
                                  std::string("\x01\x1f%7D"), std::string(90, 'q')})
        CHECK(id_in(scoped_key("llm", "u", id, "budget:d3"), "llm") == id);
    CHECK(id_in(scoped_key("my-prefix", "t", "acme", "rate1"), "my-prefix") == "acme");
    // Not a scoped key: nothing, rather than a guess.
    CHECK(id_in("plain", "llm").empty());
    CHECK(id_in("llm:{u:unclosed", "llm").empty());
}
