// llm::provider::gemini: the generateContent wire format it writes, and every recorded Gemini
// answer, stream and error replayed through transport::https and decoded.
#include <llm/provider/gemini.hpp>

#include "provider_support.hpp"

#include <boost/json/parse.hpp>

using namespace llm;

namespace {

provider::gemini_config config_at(const std::string& base)
{
    provider::gemini_config c;
    c.api_key = "gemini-test-secret";
    c.base_url = base;
    return c;
}

provider::gemini gemini_at(const std::string& base)
{
    return provider::gemini(config_at(base));
}

// Facts read from the fixtures: text of the parts that are not thoughts (sizes in bytes), each
// functionCall part a call of its own, numbered call_0, call_1, ...; the last finishReason
// (STOP after calls normalized to tool_calls); usage from the last usageMetadata, output
// counting the thoughts.
const std::vector<test::stream_case> stream_cases = {
    {"gemini/stream-finish-max-tokens.sse",
     91,
     "The sky is blue because of a phenomenon ",
     finish_reason::length,
     usage{6, 20, 0},
     {}},
    {"gemini/stream-function-call-parallel.sse",
     0,
     "",
     finish_reason::tool_calls,
     usage{37, 14, 0},
     {{"call_0", "get_current_temperature", R"({"city":"Paris"})", {}},
      {"call_1", "get_current_temperature", R"({"city":"London"})", {}}}},
    {"gemini/stream-text.sse", 32, "The capital of France is Paris.\n", finish_reason::stop, usage{13, 8, 0}, {}},
    {"gemini/stream-thinking-thought-parts.sse",
     1938,
     "This is a great question! Safely crossin",
     finish_reason::stop,
     usage{34, 1256, 0},
     {}},
};

struct answer_case {
    const char* fixture;
    std::size_t text_size;
    const char* text_start;
    finish_reason finish;
    usage used;
    std::size_t calls;
    const char* model;
};

const std::vector<answer_case> answer_cases = {
    {"gemini/generate-nonstream-finish-safety.json",
     0,
     "",
     finish_reason::content_filter,
     {14, 0, 0},
     0,
     "gemini-1.5-flash"},
    {"gemini/generate-nonstream-function-call-parallel.json",
     0,
     "",
     finish_reason::tool_calls,
     {291, 137, 0},
     3,
     "gemini-2.5-flash"},
    {"gemini/generate-nonstream-max-tokens-no-parts.json",
     0,
     "",
     finish_reason::length,
     {15, 2, 0},
     0,
     "gemini-2.5-pro"},
    {"gemini/generate-nonstream-prompt-blocked-prohibited-content.json",
     0,
     "",
     finish_reason::content_filter,
     {9, 0, 0},
     0,
     "gemini-3.7-flash"},
    {"gemini/generate-nonstream-text-avglogprobs.json",
     303,
     "I see a line graph titled \"Revenue Over ",
     finish_reason::stop,
     {1454, 100, 0},
     0,
     "gemini-2.0-flash"},
    {"gemini/generate-nonstream-text.json",
     32,
     "Hello! How can I help you today?",
     finish_reason::stop,
     {3, 213, 0},
     0,
     "gemini-3-pro-preview"},
    // streamGenerateContent read without alt=sse: one JSON array of responses, merged.
    {"gemini/stream-json-array-thinking.json", 5, "Scoop", finish_reason::stop, {11, 293, 0}, 0, "gemini-3.6-flash"},
};

} // namespace

TEST_CASE("every recorded Gemini stream decodes to its text, calls, usage and finish reason",
          "[provider][gemini][fixtures]")
{
    test::provider_rig<provider::gemini> rig(gemini_at);
    test::check_streams(rig, stream_cases);
    const auto sent = rig.last_sent();
    CHECK_THAT(sent.head, Catch::StartsWith("POST /v1beta/models/m:streamGenerateContent?alt=sse HTTP/1.1\r\n"));
    CHECK_THAT(sent.head, Catch::Contains("x-goog-api-key: gemini-test-secret\r\n"));
}

TEST_CASE("a thought signature stays with its call, and goes back with it", "[provider][gemini][fixtures]")
{
    test::provider_rig<provider::gemini> rig(gemini_at);
    const auto s = rig.stream("gemini/stream-function-call-thought-signature.sse", test::hello());
    REQUIRE_FALSE(s.failure);
    CHECK(s.finish == finish_reason::tool_calls);
    CHECK(s.last_usage == usage{29, 212, 0});
    REQUIRE(s.tool_calls.size() == 1);
    const auto& call = s.tool_calls[0];
    CHECK(call.name == "get_country");
    CHECK(call.arguments == "{}");
    CHECK(call.signature.size() == 1408);
    CHECK_THAT(call.signature, Catch::StartsWith("EpwICpkIAXLI2nxlU6gsWZaZ"));

    // The next turn carries the call, its signature and the result, matched by name.
    auto next = provider::gemini(config_at("http://127.0.0.1:9/"))
                    .encode(request{.model = "gemini-3-pro-preview",
                                    .messages = {user("Which country?"), assistant("", {call}),
                                                 tool(call.id, R"({"country":"France"})")}});
    REQUIRE(next);
    const auto contents = boost::json::parse(next.value().body).at("contents");
    CHECK(contents.at(1).at("parts").at(0).at("thoughtSignature") == call.signature.c_str());
    CHECK(contents.at(2) == boost::json::parse(R"({"role":"user","parts":[{"functionResponse":{
        "name":"get_country","response":{"result":{"country":"France"}}}}]})"));
}

TEST_CASE("complete Gemini answers decode: text, calls, safety and prompt blocks, usage, model",
          "[provider][gemini][fixtures]")
{
    test::provider_rig<provider::gemini> rig(gemini_at);
    for (const auto& c : answer_cases) {
        INFO(c.fixture);
        auto got = rig.complete(c.fixture, test::hello());
        REQUIRE(got);
        CHECK(got.value().text.size() == c.text_size);
        CHECK(got.value().text.starts_with(c.text_start));
        CHECK(got.value().finish_reason == c.finish);
        CHECK(got.value().usage == c.used);
        CHECK(got.value().tool_calls.size() == c.calls);
        CHECK(got.value().model == c.model);
    }
    auto parallel = rig.complete("gemini/generate-nonstream-function-call-parallel.json", test::hello());
    REQUIRE(parallel);
    const auto& calls = parallel.value().tool_calls;
    REQUIRE(calls.size() == 3);
    CHECK(calls[0] == tool_call{"call_0", "parallel_local_search_one",
                                R"({"query":"latest OpenAI model release notes"})", calls[0].signature});
    CHECK(calls[0].signature.size() == 412); // only the first call of a parallel set carries one
    CHECK(calls[1].signature.empty());
    CHECK(calls[2].name == "parallel_local_search_three");
    CHECK_THAT(rig.last_sent().head, Catch::StartsWith("POST /v1beta/models/test-model:generateContent HTTP/1.1"));
}

TEST_CASE("Gemini errors: status, type, RetryInfo's delay, and a bad key under an event-stream type",
          "[provider][gemini][fixtures]")
{
    test::provider_rig<provider::gemini> rig(gemini_at);
    auto quota = rig.complete("gemini/error-429-resource-exhausted-quota-retryinfo.json", test::hello());
    REQUIRE_FALSE(quota);
    CHECK(quota.error() == errc::rate_limited);
    CHECK(quota.error().provider_type == "RESOURCE_EXHAUSTED");
    CHECK(quota.error().retry_after == std::chrono::milliseconds(34400));

    auto exhausted = rig.complete("gemini/error-429-resource-exhausted.json", test::hello());
    REQUIRE_FALSE(exhausted);
    CHECK(exhausted.error() == errc::rate_limited);
    CHECK_FALSE(exhausted.error().retry_after);

    // Asked for a stream, answered with plain JSON under content-type text/event-stream.
    const auto bad_key = rig.stream("gemini/error-400-api-key-invalid-on-stream.json", test::hello());
    REQUIRE(bad_key.failure);
    CHECK(*bad_key.failure == errc::unauthorized);
    CHECK(bad_key.failure->http_status == 400);
    CHECK(bad_key.failure->message == "gemini: API key not valid. Please pass a valid API key.");

    auto invalid = rig.complete("gemini/error-400-invalid-argument.json", test::hello());
    REQUIRE_FALSE(invalid);
    CHECK(invalid.error() == errc::bad_request);
    CHECK(invalid.error().provider_type == "INVALID_ARGUMENT");
    CHECK(invalid.error().message == "gemini: Penalty is not enabled for models/gemini-2.5-flash");

    auto disabled = rig.complete("gemini/error-403-permission-denied-service-disabled.json", test::hello());
    REQUIRE_FALSE(disabled);
    CHECK(disabled.error() == errc::unauthorized);
    CHECK(disabled.error().provider_type == "PERMISSION_DENIED");

    auto busy = rig.complete("gemini/error-503-unavailable.json", test::hello());
    REQUIRE_FALSE(busy);
    CHECK(busy.error() == errc::provider_unavailable);
    CHECK_THAT(busy.error().message, Catch::Contains("experiencing high demand"));
}

TEST_CASE("a request encodes to the generateContent wire format", "[provider][gemini]")
{
    const provider::gemini p(config_at("https://gemini.example.test/"));
    request r{.model = "gemini-2.5-flash",
              .messages = {llm::system("Be brief."), user("Weather in Paris?"),
                           assistant("Checking.", {{"call_0", "get_weather", R"({"city":"Paris"})", {}}}),
                           tool("call_0", "21 degrees"), user("Thanks.")},
              .max_tokens = 100,
              .temperature = 0.25,
              .top_p = 0.5,
              .stop = {"END"},
              .tools = {{"get_weather", "Current weather", R"({"type":"object"})"}},
              .tool_choice = tool_choice::named("get_weather"),
              .response_format = json_schema_format{"reply", R"({"type":"object"})", true}};
    auto wire = p.encode(r);
    REQUIRE(wire);
    CHECK(wire.value().url == "https://gemini.example.test/v1beta/models/gemini-2.5-flash:generateContent");
    const auto expected = boost::json::parse(R"({
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [
            {"role": "user", "parts": [{"text": "Weather in Paris?"}]},
            {"role": "model", "parts": [{"text": "Checking."},
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"result": "21 degrees"}}},
                {"text": "Thanks."}]}],
        "tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Current weather",
                                             "parametersJsonSchema": {"type": "object"}}]}],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}},
        "generationConfig": {"maxOutputTokens": 100, "temperature": 0.25, "topP": 0.5, "stopSequences": ["END"],
                             "responseMimeType": "application/json", "responseJsonSchema": {"type": "object"}}
    })");
    CHECK(boost::json::parse(wire.value().body) == expected);
    auto streamed = p.encode_stream(r);
    REQUIRE(streamed);
    CHECK(streamed.value().url ==
          "https://gemini.example.test/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
    CHECK(boost::json::parse(streamed.value().body) == expected);
}

TEST_CASE("Gemini requests that cannot be sent are refused with a clear error", "[provider][gemini]")
{
    auto keyless = config_at("http://127.0.0.1:9/");
    keyless.api_key.clear();
    auto missing = provider::gemini(keyless).encode(test::hello());
    REQUIRE_FALSE(missing);
    CHECK(missing.error() == errc::invalid_configuration);
    CHECK_THAT(missing.error().message, Catch::Contains("GEMINI_API_KEY"));

    const provider::gemini p(config_at("http://127.0.0.1:9/"));
    auto orphan = p.encode(request{.model = "m", .messages = {user("hi"), tool("call_9", "x")}});
    REQUIRE_FALSE(orphan);
    CHECK(orphan.error() == errc::bad_request);
    CHECK_THAT(orphan.error().message, Catch::Contains("'call_9' answers no tool call"));
    auto path = p.encode(request{.model = "../v1/files", .messages = {user("hi")}});
    REQUIRE_FALSE(path);
    CHECK(path.error() == errc::bad_request);
    CHECK_THAT(path.error().describe(), !Catch::Contains("gemini-test-secret"));
}

TEST_CASE("malformed Gemini answers are errors with context", "[provider][gemini]")
{
    test::provider_rig<provider::gemini> rig(gemini_at);
    for (std::string body :
         {R"({"candidates":[{"content":{"parts":[{"text":"no finish"}]}}]})", R"({"candidates":{"oops":1}})", "[1]",
          "{\"candidates\":", R"({"candidates":[{"content":{"parts":[{"text":5}]},"finishReason":"STOP"}]})",
          R"({"candidates":[{"finishReason":7}]})"}) {
        INFO(body);
        auto got = rig.complete(test::answer(200, body), test::hello());
        REQUIRE_FALSE(got);
        CHECK(got.error() == errc::malformed_response);
        CHECK_THAT(got.error().message, Catch::StartsWith("gemini: "));
    }
    const auto cut = rig.stream(
        test::chunked(200, {"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]}}]}\r\n\r\n"}, {}),
        test::hello());
    REQUIRE(cut.failure);
    CHECK(*cut.failure == errc::malformed_response);
    CHECK_THAT(cut.failure->message, Catch::Contains("ended before a finishReason"));
    CHECK(cut.text == "Hi"); // what arrived before the cut was passed on

    const auto failed = rig.stream(
        test::chunked(200, {"data: {\"error\":{\"code\":503,\"message\":\"busy\",\"status\":\"UNAVAILABLE\"}}\n\n"},
                      {}),
        test::hello());
    REQUIRE(failed.failure);
    CHECK(*failed.failure == errc::provider_unavailable);
    CHECK(failed.failure->provider_type == "UNAVAILABLE");
}

TEST_CASE("Gemini embeddings: the request, and the recorded answer decoded over the transport",
          "[provider][gemini][fixtures]")
{
    asio::io_context io;
    test::loopback_server server;
    transport::https wire(io.get_executor(), test::quick_https_options());
    const provider::gemini p(config_at(server.url("/")));
    auto encoded =
        p.encode_embeddings(embedding_request{.model = "gemini-embedding-2", .inputs = {"a", "b"}, .dimensions = 768});
    REQUIRE(encoded);
    CHECK(encoded.value().url == server.url("/v1beta/models/gemini-embedding-2:batchEmbedContents"));
    CHECK(boost::json::parse(encoded.value().body).at("requests").at(1) ==
          boost::json::parse(R"({"model":"models/gemini-embedding-2","content":{"parts":[{"text":"b"}]},
                                 "outputDimensionality":768})"));
    server.then(test::replay(test::load_recorded("gemini/batch-embed-contents.json")));
    auto answer = test::send(wire, io, encoded.value());
    REQUIRE(answer);
    auto decoded = p.decode_embeddings(answer.value());
    REQUIRE(decoded);
    REQUIRE(decoded.value().vectors.size() == 2);
    CHECK(decoded.value().vectors[0].size() == 768);
    CHECK(decoded.value().vectors[0][0] == -0.011345503f);
    CHECK(decoded.value().usage.input_tokens == 4);
}
