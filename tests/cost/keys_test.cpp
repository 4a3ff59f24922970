// Store keys: one scope per hash tag, ids that cannot break out of it, and the way back from a
// key to its id for alerts and messages.
#include <llm/store/store.hpp>

#include <catch2/catch.hpp>

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
