// The in-place containers a call's hot path uses instead of the heap: they must behave like
// the standard ones, only the elements pushed may live, and long text must still work.
#include <llm/detail/inline_vector.hpp>
#include <llm/detail/small_string.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <utility>

namespace {

// Counts the live instances, to catch an element constructed or destroyed once too often.
struct counted {
    static inline int alive = 0;
    int value = 0;

    explicit counted(int v) : value(v) { ++alive; }
    counted(const counted& o) : value(o.value) { ++alive; }
    counted(counted&& o) noexcept : value(o.value) { ++alive; }
    counted& operator=(const counted&) = default;
    counted& operator=(counted&&) = default;
    ~counted() { --alive; }
};

} // namespace

using llm::detail::inline_vector;
using llm::detail::small_string;

TEST_CASE("inline_vector constructs only the elements pushed and destroys each once", "[core][inline]")
{
    counted::alive = 0;
    {
        inline_vector<counted, 4> v;
        CHECK(counted::alive == 0); // an empty one holds no element
        v.emplace_back(1);
        v.push_back(counted(2));
        CHECK(counted::alive == 2);
        CHECK(v.size() == 2);
        CHECK(v[0].value == 1);
        CHECK(v[1].value == 2);

        auto copy = v;
        CHECK(counted::alive == 4);
        auto moved = std::move(copy);
        CHECK(moved.size() == 2);
        CHECK(moved[1].value == 2);

        inline_vector<counted, 4> assigned;
        assigned.emplace_back(9);
        assigned = v; // the old element goes, two copies arrive
        CHECK(assigned.size() == 2);
        CHECK(assigned[0].value == 1);
        assigned = std::move(moved);
        CHECK(assigned[1].value == 2);

        v.clear();
        CHECK(v.empty());
    }
    CHECK(counted::alive == 0);
}

TEST_CASE("inline_vector value-initialised inside an aggregate is empty", "[core][inline]")
{
    struct holder {
        inline_vector<std::string, 3> names;
        int n = 0;
    };
    holder h{.n = 1};
    CHECK(h.names.empty());
    h.names.push_back("a long name that does not fit in a std::string's own buffer");
    holder copy = h;
    CHECK(copy.names[0] == h.names[0]);
}

TEST_CASE("small_string keeps short text in place and long text on the heap", "[core][inline]")
{
    small_string<8> s("abc");
    CHECK(s.view() == "abc");
    CHECK(s.capacity() == 8);

    s.append("defgh").append('!').append_number(-42);
    CHECK(s == "abcdefgh!-42");
    CHECK(s.capacity() >= s.size()); // grew onto the heap

    small_string<8> copy = s;
    CHECK(copy == "abcdefgh!-42");
    small_string<8> moved = std::move(copy);
    CHECK(moved == "abcdefgh!-42");
    CHECK(copy.empty()); // NOLINT: a moved-from text is empty

    small_string<8> short_one(std::string("xy"));
    moved = short_one; // a long text takes a short one's value
    CHECK(moved == "xy");
    short_one = std::move(s);
    CHECK(short_one == "abcdefgh!-42");
    auto& same = short_one;
    short_one = same; // assigning itself keeps the text
    CHECK(short_one == "abcdefgh!-42");

    small_string<8> built;
    char* at = built.extend(3);
    at[0] = 'k';
    at[1] = 'e';
    at[2] = 'y';
    CHECK(built == "key");
    CHECK(small_string<8>().empty());
}

TEST_CASE("copy_short writes exactly the bytes asked for, at every length", "[core][inline]")
{
    std::string source;
    for (int i = 0; i < 80; ++i)
        source.push_back(static_cast<char>('A' + i % 26));
    for (std::size_t n = 0; n <= source.size(); ++n) {
        std::string target(100, '.');
        char* end = llm::detail::copy_short(target.data() + 3, source.data(), n);
        CHECK(end == target.data() + 3 + n);
        CHECK(target.substr(0, 3) == "...");
        CHECK(target.substr(3, n) == source.substr(0, n));
        CHECK(target.substr(3 + n) == std::string(100 - 3 - n, '.')); // nothing past the end
    }

    small_string<16> grown; // appends of every size, in place and on the heap, keep every byte
    std::string expected;
    for (std::size_t n = 0; n < 20; ++n) {
        grown.append(std::string_view(source).substr(n, n));
        expected += source.substr(n, n);
        REQUIRE(grown == expected);
    }
    grown.clear();
    CHECK(grown.empty());
    CHECK(grown.append("again") == "again");
}
