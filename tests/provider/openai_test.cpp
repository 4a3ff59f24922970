// llm::provider::openai and openai_compatible: the wire format they write, and every recorded
// Chat Completions answer (OpenAI's own, Ollama's, and Gemini's, Anthropic's and xAI's
// compatibility endpoints) replayed through transport::https and decoded.
#include <llm/provider/openai.hpp>

#include "provider_support.hpp"

#include <boost/json/parse.hpp>

using namespace llm;

namespace {

provider::openai_config config_at(const std::string& base)
{
    provider::openai_config c;
    c.api_key = "sk-test-secret";
    c.base_url = base + "v1";
    return c;
}

provider::openai openai_at(const std::string& base)
{
    return provider::openai(config_at(base));
}

// Facts read from the fixtures (choice 0's content and refusal deltas joined, tool-call pieces
// joined by index, the last finish_reason and usage; text sizes in bytes), with finish reasons normalized: a turn
// that calls tools ends in tool_calls, a refusal in content_filter.
const std::vector<test::stream_case> stream_cases = {
    {"openai/chat-stream-content-logprobs.sse", 4, "Foo!", finish_reason::stop, usage{9, 2, 0}, {}},
    {"openai/chat-stream-finish-length.sse", 2, "{\"", finish_reason::length, usage{79, 1, 0}, {}},
    {"openai/chat-stream-n2-multiple-choices.sse",
     53,
     "{\"city\":\"San Francisco\",\"temperature\":65",
     finish_reason::stop,
     usage{79, 42, 0},
     {}},
    {"openai/chat-stream-parallel-tool-calls.sse",
     0,
     "",
     finish_reason::tool_calls,
     usage{149, 60, 0},
     {{"call_JMW1whyEaYG438VE1OIflxA2",
       "GetWeatherArgs",
       R"({"city": "Edinburgh", "country": "GB", "units": "c"})",
       {}},
      {"call_DNYTawLBoN8fj3KN6qU9N1Ou", "get_stock_price", R"({"ticker": "AAPL", "exchange": "NASDAQ"})", {}}}},
    {"openai/chat-stream-refusal.sse",
     44,
     "I'm sorry, I can't assist with that requ",
     finish_reason::content_filter,
     usage{79, 11, 0},
     {}},
    {"openai/chat-stream-strict-tool-call.sse",
     0,
     "",
     finish_reason::tool_calls,
     usage{48, 19, 0},
     {{"call_CTf1nWJLqSeRgDqaCG27xZ74", "get_weather", R"({"city":"San Francisco","state":"CA"})", {}}}},
    {"openai/chat-stream-text-include-usage.sse",
     159,
     "I'm unable to provide real-time weather ",
     finish_reason::stop,
     usage{14, 30, 0},
     {}},
    {"openai/chat-stream-text-usage-null-obfuscation.sse",
     1730,
     "**Holiday Name:** Harmony Day\n\n**Date:**",
     finish_reason::stop,
     usage{16, 300, 0},
     {}},
    {"openai/chat-stream-tool-call-args-pieces.sse",
     0,
     "",
     finish_reason::tool_calls,
     usage{44, 16, 0},
     {{"call_4XzlGBLtUe9dy3GVNV4jhq7h", "get_weather", R"({"city":"New York City"})", {}}}},
    {"openai/compat-stream-tool-call-anthropic-compat.sse",
     11,
     "Reading it.",
     finish_reason::tool_calls,
     std::nullopt,
     {{"toolu_sanitized", "read_file", R"({"path": "a.txt"})", {}}}},
    {"openai/compat-stream-xai-tool-call.sse",
     0,
     "",
     finish_reason::tool_calls,
     usage{307, 26, 306},
     {{"call_79382389", "weather", R"({"location":"San Francisco"})", {}}}},
    {"ollama/chat-stream-text.sse",
     91,
     "Hello! How are you today? Is there somet",
     finish_reason::stop,
     std::nullopt,
     {}},
    {"ollama/chat-stream-tool-call.sse",
     0,
     "",
     finish_reason::tool_calls,
     std::nullopt,
     {{"call_kve3oltz", "return_bool", R"({"value":true})", {}}}},
    {"gemini/openai-compat-stream-text.sse",
     39,
     "Hello there! How can I help you today?\n",
     finish_reason::stop,
     usage{3, 11, 0},
     {}},
    {"gemini/openai-compat-stream-tool-call.sse",
     0,
     "",
     finish_reason::tool_calls,
     usage{25, 8, 0},
     {{"", "return_list_of_int", R"({"value":[1,2,3,4,5]})", {}}}},
};

} // namespace

TEST_CASE("every recorded Chat Completions stream decodes to its text, tool calls, usage and finish reason",
          "[provider][openai][fixtures]")
{
    test::provider_rig<provider::openai> rig(openai_at);
    test::check_streams(rig, stream_cases);
    const auto sent = rig.last_sent();
    CHECK_THAT(sent.head, Catch::StartsWith("POST /v1/chat/completions HTTP/1.1\r\n"));
    CHECK_THAT(sent.head, Catch::Contains("Authorization: Bearer sk-test-secret\r\n"));
    CHECK_THAT(sent.body, Catch::Contains(R"("stream":true,"stream_options":{"include_usage":true})"));
}

TEST_CASE("a stream decodes the same whole, byte by byte and in odd pieces", "[provider][openai][fixtures]")
{
    const provider::openai p(config_at("http://127.0.0.1:9/"));
    for (const auto& c : stream_cases) {
        INFO(c.fixture);
        const auto body = test::read_file(test::fixtures_dir() / c.fixture);
        const auto whole = test::decode_in_pieces(p, body, body.size());
        REQUIRE_FALSE(whole.failure);
        for (std::size_t piece : {1u, 7u, 64u}) {
            const auto split = test::decode_in_pieces(p, body, piece);
            CHECK(split.chunks == whole.chunks);
        }
    }
}

TEST_CASE("an error event inside a 200 stream ends it with the provider's error", "[provider][openai][fixtures]")
{
    test::provider_rig<provider::openai> rig(openai_at);
    const auto s = rig.stream("openai/chat-stream-error-server-error.sse", test::hello());
    REQUIRE(s.failure);
    CHECK(*s.failure == errc::provider_unavailable);
    CHECK(s.failure->provider_type == "server_error");
    CHECK_THAT(s.failure->message, Catch::StartsWith("openai: The server had an error processing your request."));
    CHECK(s.chunks.empty());
}

TEST_CASE("complete answers decode: OpenAI's and Ollama's", "[provider][openai][fixtures]")
{
    test::provider_rig<provider::openai> rig(openai_at);
    auto a = rig.complete("openai/chat-nonstream-text.json", test::hello());
    REQUIRE(a);
    CHECK_THAT(a.value().text, Catch::StartsWith("**Holiday Name:** Galaxy Day  \n\n**Date:** October 31st"));
    CHECK(a.value().finish_reason == finish_reason::stop);
    CHECK(a.value().usage == usage{16, 363, 0});
    CHECK(a.value().model == "gpt-4.1-nano-2025-04-14");
    CHECK_THAT(rig.last_sent().body, !Catch::Contains("\"stream\""));

    auto o = rig.complete("ollama/chat-nonstream-text.json", test::hello());
    REQUIRE(o);
    CHECK(o.value().text == "4200 + 42 = 4242\n");
    CHECK(o.value().usage == usage{21, 16, 0});
    CHECK(o.value().model == "gemma3:4b");
}

TEST_CASE("error answers decode to the status's errc with the provider's type and message",
          "[provider][openai][fixtures]")
{
    test::provider_rig<provider::openai> rig(openai_at);
    auto unauthorized = rig.complete("openai/error-401-invalid-api-key.json", test::hello());
    REQUIRE_FALSE(unauthorized);
    CHECK(unauthorized.error() == errc::unauthorized);
    CHECK(unauthorized.error().http_status == 401);
    CHECK(unauthorized.error().provider_type == "invalid_request_error");
    CHECK_THAT(unauthorized.error().message, Catch::Contains("Incorrect API key provided: invalid-*****2345"));

    // Recorded without its status: served as the 400 its type implies.
    auto unsupported = test::load_recorded("openai/error-400-unsupported-parameter.json");
    unsupported.status = 400;
    auto bad = rig.complete(test::replay(unsupported), test::hello());
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == errc::bad_request);
    CHECK(bad.error().provider_type == "invalid_request_error");
    CHECK_THAT(bad.error().message, Catch::Contains("Use 'max_completion_tokens' instead."));

    // The same body under a 200 status: still an error, judged by its type.
    auto disguised = rig.complete(
        test::answer(200, test::read_file(test::fixtures_dir() / "openai/error-400-unsupported-parameter.json")),
        test::hello());
    REQUIRE_FALSE(disguised);
    CHECK(disguised.error() == errc::bad_request);

    auto missing = rig.complete("ollama/error-404-model-not-found-native-api.json", test::hello());
    REQUIRE_FALSE(missing);
    CHECK(missing.error() == errc::bad_request);
    CHECK(missing.error().http_status == 404);
    CHECK(missing.error().message == "openai: model 'nonexistent-model:latest' not found");

    auto gateway = rig.complete(
        test::answer(502, "<html><body>Bad gateway</body></html>", "Content-Type: text/html\r\n"), test::hello());
    REQUIRE_FALSE(gateway);
    CHECK(gateway.error() == errc::provider_unavailable);
    CHECK_THAT(gateway.error().message, Catch::Contains("not JSON: <html><body>Bad gateway"));
}

TEST_CASE("a 429 carries retry_after and the rate-limit headers, streamed or not", "[provider][openai]")
{
    test::provider_rig<provider::openai> rig(openai_at);
    const std::string body =
        R"({"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}})";
    const std::string headers = "retry-after-ms: 1500\r\nx-ratelimit-remaining-requests: 0\r\n"
                                "x-ratelimit-reset-requests: 6m0s\r\nX-RateLimit-Limit-Tokens: 40000\r\n";
    auto got = rig.complete(test::answer(429, body, headers), test::hello());
    REQUIRE_FALSE(got);
    const auto& e = got.error();
    CHECK(e == errc::rate_limited);
    CHECK(e.retry_after == std::chrono::milliseconds(1500));
    CHECK(e.rate_limits.remaining_requests() == 0u);
    REQUIRE(e.rate_limits.find("x-ratelimit-limit-tokens"));
    CHECK(*e.rate_limits.find("x-ratelimit-limit-tokens") == "40000");

    // Without retry-after*, the reset of the spent limit says when.
    const auto s =
        rig.stream(test::answer(429, body, "x-ratelimit-remaining-requests: 0\r\nx-ratelimit-reset-requests: 6m0s\r\n"),
                   test::hello());
    REQUIRE(s.failure);
    CHECK(*s.failure == errc::rate_limited);
    CHECK(s.failure->retry_after == std::chrono::minutes(6));
    CHECK(s.chunks.empty());
}

TEST_CASE("malformed answers are errors with context, never a crash or an empty answer", "[provider][openai]")
{
    test::provider_rig<provider::openai> rig(openai_at);
    struct bad_case {
        std::string body;
        const char* says;
    };
    for (const auto& c : std::vector<bad_case>{
             {R"({"choices":[{"message":{"content":"cut sho)", "not valid JSON"},
             {R"({"id":"x","choices":[]})", "no choices"},
             {R"({"choices":[{"finish_reason":"stop"}]})", "no message"},
             {"[1,2,3]", "no choices"},
             {R"({"choices":[{"message":{"content":5},"finish_reason":"stop"}]})",
              R"(the field "content" is not a string)"},
             {R"({"choices":[{"message":{"content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":"12"}})",
              R"(the field "prompt_tokens" is not a non-negative integer)"},
             {"", "not valid JSON"},
         }) {
        INFO(c.body);
        auto got = rig.complete(test::answer(200, c.body, "Content-Type: application/json\r\n"), test::hello());
        REQUIRE_FALSE(got);
        CHECK(got.error() == errc::malformed_response);
        CHECK_THAT(got.error().message, Catch::StartsWith("openai: ") && Catch::Contains(c.says));
    }
    for (const auto& c : std::vector<bad_case>{
             {"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n", "ended before data: [DONE]"},
             {"data: {not json}\n\ndata: [DONE]\n\n", "not valid JSON"},
             {"data: [1]\n\ndata: [DONE]\n\n", "not a JSON object"},
             {"data: {\"choices\":7}\n\ndata: [DONE]\n\n", "choices is not an array"},
             {"data: {\"choices\":[{\"delta\":{\"content\":7}}]}\n\ndata: [DONE]\n\n", "\"content\" is not a string"},
             {"data: {\"choices\":[{\"delta\":{\"tool_calls\":[3]}}]}\n\ndata: [DONE]\n\n", "not an object"},
         }) {
        INFO(c.body);
        const auto s = rig.stream(test::chunked(200, {c.body}, {}), test::hello());
        REQUIRE(s.failure);
        CHECK(*s.failure == errc::malformed_response);
        CHECK_THAT(s.failure->message, Catch::Contains(c.says));
    }
}

TEST_CASE("a request encodes to the Chat Completions wire format", "[provider][openai]")
{
    const provider::openai p(config_at("https://api.example.test/"));
    request r{
        .model = "gpt-4.1",
        .messages = {llm::system("Be brief."), user("Weather in Paris?"),
                     assistant("", {{"call_1", "get_weather", R"({"city":"Paris"})", {}}}),
                     tool("call_1", R"({"celsius":21})"), user("And \"tomorrow\"?\n")},
        .max_tokens = 300,
        .temperature = 0.5,
        .stop = {"END"},
        .tools = {{"get_weather", "Current weather", R"({"type":"object","properties":{"city":{"type":"string"}}})"}},
        .tool_choice = tool_choice::named("get_weather"),
        .response_format = json_schema_format{"reply", R"({"type":"object"})", true}};
    auto wire = p.encode(r);
    REQUIRE(wire);
    CHECK(wire.value().method == "POST");
    CHECK(wire.value().url == "https://api.example.test/v1/chat/completions");
    REQUIRE(wire.value().headers.find("authorization"));
    CHECK(*wire.value().headers.find("authorization") == "Bearer sk-test-secret");
    const auto expected = boost::json::parse(R"({
        "model": "gpt-4.1",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"celsius\":21}"},
            {"role": "user", "content": "And \"tomorrow\"?\n"}],
        "max_completion_tokens": 300,
        "temperature": 0.5,
        "stop": ["END"],
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Current weather",
                   "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "response_format": {"type": "json_schema", "json_schema": {"name": "reply", "schema": {"type": "object"}, "strict": true}}
    })");
    CHECK(boost::json::parse(wire.value().body) == expected);

    auto streamed = p.encode_stream(r);
    REQUIRE(streamed);
    auto body = boost::json::parse(streamed.value().body).as_object();
    CHECK(body.at("stream") == true);
    CHECK(body.at("stream_options") == boost::json::parse(R"({"include_usage":true})"));
    body.erase("stream");
    body.erase("stream_options");
    CHECK(body == expected.as_object());
}

TEST_CASE("an OpenAI-compatible server: its own URL, max_tokens, and no key unless given", "[provider][openai]")
{
    const provider::openai_compatible local(provider::openai_config::compatible("http://127.0.0.1:8000/v1/"));
    auto wire = local.encode(request{.model = "llama3.1", .messages = {user("hi")}, .max_tokens = 5});
    REQUIRE(wire);
    CHECK(wire.value().url == "http://127.0.0.1:8000/v1/chat/completions");
    CHECK_FALSE(wire.value().headers.find("authorization"));
    CHECK(boost::json::parse(wire.value().body).at("max_tokens") == 5);

    setenv("OLLAMA_HOST", "10.0.0.7:11434", 1);
    CHECK(provider::openai_config::ollama().base_url == "http://10.0.0.7:11434/v1");
    unsetenv("OLLAMA_HOST");
    CHECK(provider::openai_config::ollama().base_url == "http://127.0.0.1:11434/v1");
}

TEST_CASE("requests no provider could take are refused before anything is sent, the key never shown",
          "[provider][openai]")
{
    provider::openai_config no_key = config_at("http://127.0.0.1:9/");
    no_key.api_key.clear();
    auto missing = provider::openai(no_key).encode(test::hello());
    REQUIRE_FALSE(missing);
    CHECK(missing.error() == errc::invalid_configuration);
    CHECK_THAT(missing.error().message, Catch::Contains("OPENAI_API_KEY"));

    const provider::openai p(config_at("http://127.0.0.1:9/"));
    struct bad_case {
        request r;
        const char* says;
    };
    for (const auto& c : std::vector<bad_case>{
             {request{.model = "", .messages = {user("hi")}}, "request.model is empty"},
             {request{.model = "m", .messages = {user("caf\xc3")}}, "not valid UTF-8"},
             {request{.model = "m", .messages = {user("hi")}, .tools = {{"t", "", "{not json"}}},
              "tool 't': parameters is not a JSON object"},
             {request{.model = "m", .messages = {user("hi")}, .response_format = json_schema_format{"r", "[]", true}},
              "response_format.schema is not a JSON object"},
             {request{.model = "m", .messages = {assistant("", {{"c1", "t", "{\"a\":", {}}})}},
              "arguments of tool call 'c1'"},
         }) {
        auto wire = p.encode(c.r);
        REQUIRE_FALSE(wire);
        CHECK(wire.error() == errc::bad_request);
        CHECK_THAT(wire.error().message, Catch::Contains(c.says));
        CHECK_THAT(wire.error().describe(), !Catch::Contains("sk-test-secret"));
    }
}

TEST_CASE("embeddings: the request, and the recorded answer decoded over the transport", "[provider][openai][fixtures]")
{
    asio::io_context io;
    test::loopback_server server;
    transport::https wire(io.get_executor(), test::quick_https_options());
    const provider::openai p(config_at(server.url("/")));

    auto encoded = p.encode_embeddings(
        embedding_request{.model = "text-embedding-3-small", .inputs = {"a", "b"}, .dimensions = 5});
    REQUIRE(encoded);
    CHECK(encoded.value().url == server.url("/v1/embeddings"));
    CHECK(boost::json::parse(encoded.value().body) ==
          boost::json::parse(
              R"({"model":"text-embedding-3-small","input":["a","b"],"encoding_format":"float","dimensions":5})"));

    server.then(test::replay(test::load_recorded("openai/embeddings.json")));
    auto answer = test::send(wire, io, encoded.value());
    REQUIRE(answer);
    auto decoded = p.decode_embeddings(answer.value());
    REQUIRE(decoded);
    REQUIRE(decoded.value().vectors.size() == 2);
    CHECK(decoded.value().vectors[0] ==
          std::vector<float>{0.0057293195f, -0.012727811f, 0.020042092f, -0.013437585f, 0.022833068f});
    CHECK(decoded.value().usage.input_tokens == 12);
    CHECK(decoded.value().model == "text-embedding-3-small");

    CHECK_FALSE(p.encode_embeddings(embedding_request{.model = "m"}));
    http::response bad{200, {}, R"({"data":[{"index":0,"embedding":["x"]}]})"};
    auto refused = p.decode_embeddings(bad);
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == errc::malformed_response);
}
