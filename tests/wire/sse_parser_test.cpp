// The event-stream parser against the WHATWG specification's rules and examples, and every
// recorded provider stream fed whole, byte by byte and in random splits.
#include <llm/sse/parser.hpp>

#include <support/fixtures.hpp>

#include <catch2/catch.hpp>

#include <random>

using llm::sse::event;
using llm::sse::parser;

namespace {

struct parsed {
    std::vector<event> events;
    std::error_code error;
};

// Feeds `stream` cut at the given offsets.
parsed feed(std::string_view stream, const std::vector<std::size_t>& cuts, parser p = parser{})
{
    parsed out;
    std::size_t from = 0;
    auto collect = [&](const event& e) { out.events.push_back(e); };
    for (std::size_t cut : cuts) {
        if (!out.error)
            out.error = p.put(stream.substr(from, cut - from), collect);
        from = cut;
    }
    if (!out.error)
        out.error = p.put(stream.substr(from), collect);
    return out;
}

parsed whole(std::string_view stream)
{
    return feed(stream, {});
}

std::vector<std::size_t> every_byte(std::size_t size)
{
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < size; ++i)
        cuts.push_back(i);
    return cuts;
}

std::vector<std::size_t> random_cuts(std::size_t size, unsigned seed)
{
    std::mt19937 rng(seed);
    std::vector<std::size_t> cuts;
    std::size_t at = 0;
    while (size > 0) {
        at += std::uniform_int_distribution<std::size_t>(1, 64)(rng);
        if (at >= size)
            break;
        cuts.push_back(at);
    }
    return cuts;
}

std::vector<std::string> datas(const parsed& p)
{
    std::vector<std::string> out;
    for (const auto& e : p.events)
        out.push_back(e.data);
    return out;
}

} // namespace

TEST_CASE("data lines are joined with LF into one event", "[wire][sse]")
{
    auto p = whole("data: YHOO\ndata: +2\ndata: 10\n\n");
    REQUIRE(p.events.size() == 1);
    CHECK(p.events[0].data == "YHOO\n+2\n10");
    CHECK(p.events[0].type == "message");
}

TEST_CASE("comments are ignored, ids carry over, one leading space is removed", "[wire][sse]")
{
    auto p = whole(": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n");
    REQUIRE(p.events.size() == 3);
    CHECK(p.events[0].data == "first event");
    CHECK(p.events[0].id == "1");
    CHECK(p.events[1].data == "second event");
    CHECK(p.events[1].id.empty()); // `id` without a value resets it
    CHECK(p.events[2].data == " third event");
}

TEST_CASE("a field without a colon has an empty value, and an unfinished event is dropped", "[wire][sse]")
{
    auto p = whole("data\n\ndata\ndata\n\ndata:");
    CHECK(datas(p) == std::vector<std::string>{"", "\n"});
}

TEST_CASE("finish() dispatches the event a complete body ended in, without its blank line", "[wire][sse]")
{
    for (std::string_view tail : {"data: last", "data: last\n", "data: last\r", "data: last\r\n"}) {
        INFO("the body ends in " << tail.size() << " bytes of its last event");
        parser p;
        std::vector<event> got;
        auto collect = [&](const event& e) { got.push_back(e); };
        REQUIRE_FALSE(p.put("data: first\n\nevent: end\n", collect));
        REQUIRE_FALSE(p.put(tail, collect));
        REQUIRE(got.size() == 1);
        REQUIRE_FALSE(p.finish(collect));
        REQUIRE(got.size() == 2);
        CHECK(got[1].type == "end");
        CHECK(got[1].data == "last");
        CHECK_FALSE(p.finish(collect)); // nothing more
        CHECK(got.size() == 2);
    }
    parser empty;
    std::size_t events = 0;
    CHECK_FALSE(empty.finish([&](const event&) { ++events; }));
    CHECK(events == 0);
    parser failed(8);
    CHECK(failed.put("data: far too long\n", [](const event&) {}) == llm::sse::errc::event_too_large);
    CHECK(failed.finish([](const event&) {}) == llm::sse::errc::event_too_large);
}

TEST_CASE("the space after the colon is optional", "[wire][sse]")
{
    CHECK(datas(whole("data:test\n\ndata: test\n\n")) == std::vector<std::string>{"test", "test"});
}

TEST_CASE("LF, CR and CRLF all end lines, even mixed and split between pieces", "[wire][sse]")
{
    const std::string stream = "event: a\r\ndata: 1\r\rdata: 2\n\ndata: 3\r\n\r\n";
    auto p = whole(stream);
    REQUIRE(p.events.size() == 3);
    CHECK(p.events[0].type == "a");
    CHECK(datas(p) == std::vector<std::string>{"1", "2", "3"});
    CHECK(feed(stream, every_byte(stream.size())).events == p.events);
    // A CRLF split exactly between two pieces is one line end, not two.
    CHECK(datas(feed("data: x\r\n\r\n", {8})) == std::vector<std::string>{"x"});
}

TEST_CASE("a leading byte order mark is dropped, even split, but only at the start", "[wire][sse]")
{
    const std::string bom = "\xEF\xBB\xBF";
    CHECK(datas(whole(bom + "data: a\n\n")) == std::vector<std::string>{"a"});
    CHECK(datas(feed(bom + "data: a\n\n", {1, 2})) == std::vector<std::string>{"a"});
    // Not a mark after all: the bytes held back begin the first line.
    CHECK(datas(feed("\xEF"
                     "data: a\n\n",
                     {1}))
              .empty()); // the field is "\xEF" "data", unknown
    CHECK(datas(whole("data: a\n\n" + bom + "data: b\n\n")) == std::vector<std::string>{"a"});
}

TEST_CASE("event types, retry and unknown fields", "[wire][sse]")
{
    auto p = whole("event: message_start\ndata: {}\nretry: 1500\nfoo: bar\n\nevent:\ndata: x\nretry: 1.5\n\n");
    REQUIRE(p.events.size() == 2);
    CHECK(p.events[0].type == "message_start");
    CHECK(p.events[0].retry == std::chrono::milliseconds(1500));
    CHECK(p.events[1].type == "message"); // an empty event field means the default
    CHECK_FALSE(p.events[1].retry);       // not all digits: ignored
}

TEST_CASE("an id containing NUL is ignored; the last id is remembered for reconnecting", "[wire][sse]")
{
    parser sse;
    std::vector<event> got;
    auto collect = [&](const event& e) { got.push_back(e); };
    CHECK_FALSE(sse.put("id: 7\ndata: a\n\n", collect));
    CHECK_FALSE(sse.put(std::string_view("id: 8\0x\ndata: b\n\n", 18), collect));
    REQUIRE(got.size() == 2);
    CHECK(got[1].id == "7");
    CHECK(sse.last_event_id() == "7");
}

TEST_CASE("an event bigger than the limit is an error, and the parser stays failed", "[wire][sse]")
{
    parser small(16);
    std::vector<event> got;
    auto collect = [&](const event& e) { got.push_back(e); };
    CHECK_FALSE(small.put("data: 0123456789\n\n", collect));
    auto ec = small.put("data: 0123456789\ndata: 0123456789\n\n", collect);
    CHECK(ec == llm::sse::errc::event_too_large);
    CHECK(ec == std::errc::message_size);
    CHECK_THAT(ec.message(), Catch::Contains("max_event_bytes"));
    CHECK(small.put("data: x\n\n", collect) == llm::sse::errc::event_too_large);
    CHECK(got.size() == 1);

    // A line that never ends is caught too, however it is split.
    parser endless(16);
    CHECK(feed(std::string(100, 'x'), every_byte(100), std::move(endless)).error == llm::sse::errc::event_too_large);
}

TEST_CASE("every recorded stream gives the same events whole, byte by byte and in random splits",
          "[wire][sse][fixtures]")
{
    for (const auto& path : llm::test::fixtures_ending_in(".sse")) {
        const std::string stream = llm::test::read_file(path);
        INFO("fixture " << path.filename().string());
        const auto reference = whole(stream);
        REQUIRE_FALSE(reference.error);
        CHECK_FALSE(reference.events.empty());
        CHECK(feed(stream, every_byte(stream.size())).events == reference.events);
        for (unsigned seed = 1; seed <= 20; ++seed)
            CHECK(feed(stream, random_cuts(stream.size(), seed)).events == reference.events);
    }
}

TEST_CASE("recorded streams decode to the events their providers sent", "[wire][sse][fixtures]")
{
    const auto dir = llm::test::fixtures_dir();
    auto openai = whole(llm::test::read_file(dir / "openai/chat-stream-text-include-usage.sse"));
    REQUIRE_FALSE(openai.events.empty());
    CHECK(openai.events.back().data == "[DONE]");
    CHECK_THAT(openai.events.front().data, Catch::StartsWith(R"({"id":"chatcmpl-)"));

    auto anthropic = whole(llm::test::read_file(dir / "anthropic/messages-stream-text.sse"));
    REQUIRE(anthropic.events.size() >= 4);
    CHECK(anthropic.events.front().type == "message_start");
    CHECK(anthropic.events.back().type == "message_stop");

    // Gemini frames its events with CRLF.
    auto gemini = whole(llm::test::read_file(dir / "gemini/stream-finish-max-tokens.sse"));
    REQUIRE(gemini.events.size() == 3);
    CHECK_THAT(gemini.events.back().data, Catch::Contains("MAX_TOKENS"));
}

TEST_CASE("the size limit judges every line the same, whole or split (found by fuzzing)", "[wire][sse]")
{
    // A comment line longer than the limit used to pass when it arrived whole and fail when split.
    const std::string stream = "data: a\n\n:" + std::string(100, 'c') + "\ndata: b\n\n";
    const auto reference = feed(stream, {}, parser(32));
    CHECK(reference.error == llm::sse::errc::event_too_large);
    CHECK(datas(reference) == std::vector<std::string>{"a"});
    for (std::size_t cut = 1; cut < stream.size(); ++cut) {
        INFO("cut at " << cut);
        const auto split = feed(stream, {cut}, parser(32));
        CHECK(split.error == reference.error);
        CHECK(split.events == reference.events);
    }
}
