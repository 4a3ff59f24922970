// llm::provider::anthropic: the Messages wire format it writes, and every recorded Messages
// answer and stream replayed through transport::https and decoded.
#include <llm/provider/anthropic.hpp>

#include "provider_support.hpp"

#include <boost/json/parse.hpp>

using namespace llm;

namespace {

provider::anthropic_config config_at(const std::string& base)
{
    provider::anthropic_config c;
    c.api_key = "sk-ant-test-secret";
    c.base_url = base;
    return c;
}

provider::anthropic anthropic_at(const std::string& base)
{
    return provider::anthropic(config_at(base));
}

// Facts read from the fixtures: text deltas of text blocks joined (sizes in bytes), input_json
// pieces of tool_use blocks joined ("{}" when a call has none), server tools left out, the
// stop_reason, and usage as the latest counts: input is uncached + cache writes + cache reads.
const std::vector<test::stream_case> stream_cases = {
    {"anthropic/messages-stream-message-delta-input-tokens.sse", 4, "pong", finish_reason::stop, usage{61, 2, 0}, {}},
    {"anthropic/messages-stream-prompt-cache-usage.sse",
     62,
     "The sum of the squares of the numbers 1 ",
     finish_reason::stop,
     usage{9632, 198, 6289},
     {}},
    {"anthropic/messages-stream-text-after-tool-result-padded.sse",
     118,
     "The weather in San Francisco, CA is curr",
     finish_reason::stop,
     usage{770, 38, 0},
     {}},
    {"anthropic/messages-stream-text-padded.sse", 13, "[12345,67890]", finish_reason::stop, usage{135, 10, 0}, {}},
    {"anthropic/messages-stream-text-then-tool-no-args.sse",
     35,
     "I'll update the issue list for you.",
     finish_reason::tool_calls,
     usage{565, 48, 0},
     {{"toolu_01QE1WLsSVp5hy5Q3GmGTmjP", "updateIssueList", "{}", {}}}},
    {"anthropic/messages-stream-text.sse",
     108,
     "Hello! I'm doing well, thank you for ask",
     finish_reason::stop,
     usage{12, 30, 0},
     {}},
    {"anthropic/messages-stream-tool-use-input-json-delta-padded.sse",
     0,
     "",
     finish_reason::tool_calls,
     usage{656, 74, 0},
     {{"toolu_018acGYLtfR52q9yDbWaEdQZ", "get_weather", R"({"location": "San Francisco, CA", "units": "f"})", {}}}},
    {"anthropic/messages-stream-tool-use-input-json-delta.sse",
     0,
     "",
     finish_reason::tool_calls,
     usage{849, 47, 0},
     {{"toolu_01KFbKqPYSuAKujiL6mTfzYA",
       "json",
       R"({"elements": [{"location": "San Francisco", "temperature": 58, "condition": "sunny"}]})",
       {}}}},
    {"anthropic/sdk-basic-response.sse", 12, "Hello there!", finish_reason::stop, usage{11, 6, 0}, {}},
    {"anthropic/sdk-tool-use-response.sse",
     48,
     "I'll check the current weather in Paris ",
     finish_reason::tool_calls,
     usage{377, 65, 0},
     {{"toolu_01NRLabsLyVHZPKxbKvkfSMn", "get_weather", R"({"location": "Paris"})", {}}}},
};

} // namespace

TEST_CASE("every recorded Messages stream decodes to its text, tool calls, usage and stop reason",
          "[provider][anthropic][fixtures]")
{
    test::provider_rig<provider::anthropic> rig(anthropic_at);
    test::check_streams(rig, stream_cases);
    // The input is known from message_start on, before any text.
    const auto first = rig.stream("anthropic/messages-stream-text.sse", test::hello());
    REQUIRE_FALSE(first.chunks.empty());
    CHECK(first.chunks.front().usage == usage{12, 1, 0});
    CHECK(first.chunks.front().text.empty());
    const auto sent = rig.last_sent();
    CHECK_THAT(sent.head, Catch::StartsWith("POST /v1/messages HTTP/1.1\r\n"));
    CHECK_THAT(sent.head, Catch::Contains("x-api-key: sk-ant-test-secret\r\n"));
    CHECK_THAT(sent.head, Catch::Contains("anthropic-version: 2023-06-01\r\n"));
    CHECK_THAT(sent.body, Catch::EndsWith(R"("stream":true})"));
}

TEST_CASE("a tool call cut short by max_tokens keeps the arguments that arrived", "[provider][anthropic][fixtures]")
{
    test::provider_rig<provider::anthropic> rig(anthropic_at);
    const auto s = rig.stream("anthropic/sdk-incomplete-partial-json-response.sse", test::hello());
    REQUIRE_FALSE(s.failure);
    CHECK(s.finish == finish_reason::length);
    CHECK(s.last_usage == usage{450, 124, 0});
    REQUIRE(s.tool_calls.size() == 1);
    CHECK(s.tool_calls[0].name == "make_file");
    CHECK_THAT(s.tool_calls[0].arguments, Catch::StartsWith(R"({"filename": "taxes.txt", "lines_of_text": [)"));
    CHECK_THAT(s.tool_calls[0].arguments, Catch::EndsWith("\"Filing taxes"));
}

TEST_CASE("overloaded_error inside a 200 stream ends it, after the text that came first",
          "[provider][anthropic][fixtures]")
{
    test::provider_rig<provider::anthropic> rig(anthropic_at);
    const auto mid = rig.stream("anthropic/messages-stream-overloaded-mid-stream.sse", test::hello());
    REQUIRE(mid.failure);
    CHECK(*mid.failure == errc::provider_unavailable);
    CHECK(mid.failure->provider_type == "overloaded_error");
    CHECK(mid.failure->message == "anthropic: Overloaded");
    CHECK(mid.text == "Hello");

    const auto lone = rig.stream("anthropic/stream-event-error-overloaded.sse", test::hello());
    REQUIRE(lone.failure);
    CHECK(*lone.failure == errc::provider_unavailable);
    CHECK(lone.failure->provider_type == "overloaded_error");
    CHECK(lone.chunks.empty());
}

TEST_CASE("complete Messages answers decode: text, tool calls, usage, model and rate-limit headers",
          "[provider][anthropic][fixtures]")
{
    test::provider_rig<provider::anthropic> rig(anthropic_at);
    auto text = rig.complete("anthropic/messages-nonstream-text.json", test::hello());
    REQUIRE(text);
    CHECK(text.value().text ==
          "Hello! I'm doing well, thanks for asking. How are you doing today? Is there anything I can help you with?");
    CHECK(text.value().finish_reason == finish_reason::stop);
    CHECK(text.value().usage == usage{12, 29, 0});
    CHECK(text.value().model == "claude-sonnet-4-5-20250929");

    auto nested = rig.complete("anthropic/messages-nonstream-tool-use-json-input.json", test::hello());
    REQUIRE(nested);
    CHECK(nested.value().finish_reason == finish_reason::tool_calls);
    REQUIRE(nested.value().tool_calls.size() == 1);
    CHECK(nested.value().tool_calls[0].id == "toolu_01Q9ExVZnzZj7E2QQYHYtNUa");
    CHECK(boost::json::parse(nested.value().tool_calls[0].arguments) ==
          boost::json::parse(R"({"elements":[{"location":"San Francisco","temperature":-5,"condition":"snowy"},)"
                             R"({"location":"London","temperature":0,"condition":"snowy"},)"
                             R"({"location":"Paris","temperature":23,"condition":"cloudy"},)"
                             R"({"location":"Berlin","temperature":-9,"condition":"snowy"}]})"));

    auto no_args = rig.complete("anthropic/messages-nonstream-tool-use.json", test::hello());
    REQUIRE(no_args);
    CHECK_THAT(no_args.value().text, Catch::StartsWith("<thinking>\nThe updateIssueList tool was provided"));
    REQUIRE(no_args.value().tool_calls.size() == 1);
    CHECK(no_args.value().tool_calls[0].arguments == "{}");
    CHECK(no_args.value().usage == usage{602, 93, 0});

    auto retried = rig.complete("anthropic/messages-nonstream-after-retry.json", test::hello());
    REQUIRE(retried);
    CHECK_THAT(retried.value().text, Catch::StartsWith(R"({"items":[{"product_name":"Green Tea","price":5.50)"));
    CHECK(retried.value().usage == usage{406, 50, 0});

    // A streamed answer carries them on its first chunk.
    auto headers = test::load_recorded("anthropic/messages-nonstream-ratelimit-headers.json").headers;
    auto streamed = test::load_recorded("anthropic/messages-stream-text.sse");
    streamed.headers = headers;
    const auto s = rig.stream(test::replay(streamed), test::hello());
    REQUIRE_FALSE(s.failure);
    REQUIRE(s.chunks.size() > 2);
    CHECK(s.chunks[0].rate_limits.remaining_requests() == 49u);
    CHECK(s.chunks[1].rate_limits.empty());

    auto limited = rig.complete("anthropic/messages-nonstream-ratelimit-headers.json", test::hello());
    REQUIRE(limited);
    CHECK(limited.value().finish_reason == finish_reason::tool_calls);
    CHECK(limited.value().usage == usage{3182, 237, 0});
    CHECK(limited.value().rate_limits.remaining_requests() == 49u);
    CHECK(limited.value().rate_limits.remaining_tokens() == 36000u);
    REQUIRE(limited.value().rate_limits.find("anthropic-ratelimit-input-tokens-reset"));
    CHECK(*limited.value().rate_limits.find("anthropic-ratelimit-input-tokens-reset") == "2026-02-25T20:02:37Z");
}

TEST_CASE("Messages error answers decode with status, type and message", "[provider][anthropic][fixtures]")
{
    test::provider_rig<provider::anthropic> rig(anthropic_at);
    auto invalid = rig.complete("anthropic/error-invalid-request-400.json", test::hello());
    REQUIRE_FALSE(invalid);
    CHECK(invalid.error() == errc::bad_request);
    CHECK(invalid.error().http_status == 400);
    CHECK(invalid.error().provider_type == "invalid_request_error");
    CHECK_THAT(invalid.error().message, Catch::StartsWith("anthropic: messages.0.content.1: unexpected `tool_use_id`"));

    auto overloaded = rig.complete("anthropic/error-overloaded-529.json", test::hello());
    REQUIRE_FALSE(overloaded);
    CHECK(overloaded.error() == errc::provider_unavailable);
    CHECK(overloaded.error().http_status == 529);
    CHECK(overloaded.error().provider_type == "overloaded_error");

    auto limited = rig.complete("anthropic/error-rate-limit-429.json", test::hello());
    REQUIRE_FALSE(limited);
    CHECK(limited.error() == errc::rate_limited);
    CHECK(limited.error().provider_type == "rate_limit_error");
    CHECK_FALSE(limited.error().retry_after); // this recording has no retry-after or reset headers

    // With a retry-after header, and the same 429 before a stream's first chunk.
    auto recorded = test::load_recorded("anthropic/error-rate-limit-429.json");
    recorded.headers.emplace_back("retry-after", "17");
    const auto s = rig.stream(test::replay(recorded), test::hello());
    REQUIRE(s.failure);
    CHECK(*s.failure == errc::rate_limited);
    CHECK(s.failure->retry_after == std::chrono::seconds(17));
}

TEST_CASE("a request encodes to the Messages wire format", "[provider][anthropic]")
{
    auto config = config_at("https://api.example.test/");
    config.cache_system = true;
    const provider::anthropic p(config);
    request r{
        .model = "claude-sonnet-4-6",
        .messages = {llm::system("Be brief."), llm::system("Use metric units."), user("Weather in Paris?"),
                     assistant("Checking.", {{"toolu_1", "get_weather", R"({"city":"Paris"})", {}}}),
                     tool("toolu_1", R"({"celsius":21})"), user("And tomorrow?"), tool("toolu_0", "no data", true)},
        .temperature = 0.2,
        .stop = {"END"},
        .tools = {{"get_weather", "Current weather", R"({"type":"object","properties":{"city":{"type":"string"}}})"}},
        .tool_choice = tool_choice::required(),
        .response_format = json_schema_format{"reply", R"({"type":"object"})", true}};
    auto wire = p.encode(r);
    REQUIRE(wire);
    CHECK(wire.value().url == "https://api.example.test/v1/messages");
    REQUIRE(wire.value().headers.find("x-api-key"));
    CHECK_FALSE(wire.value().headers.find("authorization"));
    const auto expected = boost::json::parse(R"({
        "model": "claude-sonnet-4-6",
        "max_tokens": 4096,
        "system": [{"type": "text", "text": "Be brief."},
                   {"type": "text", "text": "Use metric units.", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "{\"celsius\":21}"},
                {"type": "text", "text": "And tomorrow?"},
                {"type": "tool_result", "tool_use_id": "toolu_0", "content": "no data", "is_error": true}]}],
        "temperature": 0.2,
        "stop_sequences": ["END"],
        "tools": [{"name": "get_weather", "description": "Current weather",
                   "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
        "tool_choice": {"type": "any"},
        "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}}
    })");
    CHECK(boost::json::parse(wire.value().body) == expected);

    r.max_tokens = 50;
    r.tool_choice = tool_choice::named("get_weather");
    auto streamed = p.encode_stream(r);
    REQUIRE(streamed);
    const auto body = boost::json::parse(streamed.value().body);
    CHECK(body.at("max_tokens") == 50);
    CHECK(body.at("tool_choice") == boost::json::parse(R"({"type":"tool","name":"get_weather"})"));
    CHECK(body.at("stream") == true);
}

TEST_CASE("Messages requests that cannot be sent are refused with a clear error", "[provider][anthropic]")
{
    auto keyless = config_at("http://127.0.0.1:9/");
    keyless.api_key.clear();
    auto missing = provider::anthropic(keyless).encode(test::hello());
    REQUIRE_FALSE(missing);
    CHECK(missing.error() == errc::invalid_configuration);
    CHECK_THAT(missing.error().message, Catch::Contains("ANTHROPIC_API_KEY"));

    const provider::anthropic p(config_at("http://127.0.0.1:9/"));
    auto only_system = p.encode(request{.model = "m", .messages = {llm::system("alone")}});
    REQUIRE_FALSE(only_system);
    CHECK(only_system.error() == errc::bad_request);
    auto bad_args = p.encode(request{.model = "m", .messages = {assistant("", {{"c", "t", "[1]", {}}})}});
    REQUIRE_FALSE(bad_args);
    CHECK_THAT(bad_args.error().describe(), !Catch::Contains("sk-ant-test-secret"));
}

TEST_CASE("malformed Messages answers are errors with context", "[provider][anthropic]")
{
    test::provider_rig<provider::anthropic> rig(anthropic_at);
    for (std::string body : {R"({"content":[{"type":"text","text":"hi"}]})", R"({"stop_reason":"end_turn"})", "{",
                             R"({"content":[{"type":"text","text":5}],"stop_reason":"end_turn"})",
                             R"({"content":[],"stop_reason":"end_turn","usage":{"output_tokens":-3}})"}) {
        INFO(body);
        auto got = rig.complete(test::answer(200, body), test::hello());
        REQUIRE_FALSE(got);
        CHECK(got.error() == errc::malformed_response);
        CHECK_THAT(got.error().message, Catch::StartsWith("anthropic: "));
    }
    // A stream cut before message_stop, and a delta for a block that never started.
    const std::string start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":"
                              "{\"input_tokens\":3,\"output_tokens\":1}}}\n\n";
    for (const auto& [body, says] : std::vector<std::pair<std::string, std::string>>{
             {start, "ended before message_stop"},
             {start + "data: {\"type\":\"content_block_delta\",\"index\":4,\"delta\":{\"type\":\"text_delta\","
                      "\"text\":\"x\"}}\n\n",
              "never started"},
             {"data: {\"type\":\"message_start\"}\n\n", "message_start has no message"},
         }) {
        INFO(body);
        const auto s = rig.stream(test::chunked(200, {body}, {}), test::hello());
        REQUIRE(s.failure);
        CHECK(*s.failure == errc::malformed_response);
        CHECK_THAT(s.failure->message, Catch::Contains(says));
    }
}
