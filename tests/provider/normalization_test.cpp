// One normalized shape across providers: the same llm::request becomes each provider's
// equivalent prompt, and each provider's form of the same answer (complete or streamed)
// becomes the same llm::response.
#include <llm/provider/anthropic.hpp>
#include <llm/provider/gemini.hpp>
#include <llm/provider/openai.hpp>

#include "provider_support.hpp"

#include <boost/json/parse.hpp>

#include <functional>

using namespace llm;

namespace {

const provider::openai openai_p(provider::openai_config{.api_key = "k", .base_url = "http://127.0.0.1:9/v1"});
const provider::openai_compatible ollama_p(provider::openai_config::compatible("http://127.0.0.1:9/v1"));
const provider::anthropic anthropic_p(provider::anthropic_config{.api_key = "k", .base_url = "http://127.0.0.1:9"});
const provider::gemini gemini_p(provider::gemini_config{.api_key = "k", .base_url = "http://127.0.0.1:9"});

// A system prompt, a multi-turn history with a tool call and its result, and a tool.
request conversation()
{
    return request{.model = "model-x",
                   .messages = {llm::system("You are terse."), user("Weather in Paris?"),
                                assistant("Let me check.", {{"call_0", "get_weather", R"({"city":"Paris"})", {}}}),
                                tool("call_0", R"({"celsius":21})"), user("Warm enough?")},
                   .max_tokens = 64,
                   .tools = {{"get_weather", "Current weather",
                              R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})"}}};
}

const char* const schema = R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})";

struct encode_case {
    const char* provider;
    std::function<result<http::request>(const request&)> encode;
    std::string expected;
};

std::vector<encode_case> encode_cases()
{
    const std::string openai_messages = R"([
        {"role":"system","content":"You are terse."},
        {"role":"user","content":"Weather in Paris?"},
        {"role":"assistant","content":"Let me check.","tool_calls":[{"id":"call_0","type":"function",
            "function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
        {"role":"tool","tool_call_id":"call_0","content":"{\"celsius\":21}"},
        {"role":"user","content":"Warm enough?"}])";
    const std::string openai_tools = std::string(R"([{"type":"function","function":{"name":"get_weather",
        "description":"Current weather","parameters":)") +
                                     schema + "}}]";
    return {
        {"openai", [](const request& r) { return openai_p.encode(r); },
         R"({"model":"model-x","messages":)" + openai_messages + R"(,"max_completion_tokens":64,"tools":)" +
             openai_tools + "}"},
        {"openai-compatible", [](const request& r) { return ollama_p.encode(r); },
         R"({"model":"model-x","messages":)" + openai_messages + R"(,"max_tokens":64,"tools":)" + openai_tools + "}"},
        {"anthropic", [](const request& r) { return anthropic_p.encode(r); },
         std::string(R"({"model":"model-x","max_tokens":64,
            "system":[{"type":"text","text":"You are terse."}],
            "messages":[
                {"role":"user","content":[{"type":"text","text":"Weather in Paris?"}]},
                {"role":"assistant","content":[{"type":"text","text":"Let me check."},
                    {"type":"tool_use","id":"call_0","name":"get_weather","input":{"city":"Paris"}}]},
                {"role":"user","content":[{"type":"tool_result","tool_use_id":"call_0","content":"{\"celsius\":21}"},
                    {"type":"text","text":"Warm enough?"}]}],
            "tools":[{"name":"get_weather","description":"Current weather","input_schema":)") +
             schema + "}]}"},
        {"gemini", [](const request& r) { return gemini_p.encode(r); },
         std::string(R"({"systemInstruction":{"parts":[{"text":"You are terse."}]},
            "contents":[
                {"role":"user","parts":[{"text":"Weather in Paris?"}]},
                {"role":"model","parts":[{"text":"Let me check."},
                    {"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]},
                {"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"result":{"celsius":21}}}},
                    {"text":"Warm enough?"}]}],
            "tools":[{"functionDeclarations":[{"name":"get_weather","description":"Current weather",
                "parametersJsonSchema":)") +
             schema + R"(}]}],"generationConfig":{"maxOutputTokens":64}})"},
    };
}

// The same answer in each provider's words: a sentence, then a call to get_weather for Paris;
// 20 input tokens of which 5 from the prompt cache, 10 output tokens.
const response expected_answer{.text = "It is mild.",
                               .tool_calls = {{"call_0", "get_weather", R"({"city":"Paris"})", {}}},
                               .finish_reason = finish_reason::tool_calls,
                               .usage = {20, 10, 5}};

struct answer_case {
    const char* provider;
    std::function<result<response>(const http::response&)> decode;
    std::string complete;
    std::string streamed;
    std::function<test::streamed(std::string_view)> stream;
};

std::vector<answer_case> answer_cases()
{
    return {
        {"openai", [](const http::response& a) { return openai_p.decode(a); },
         R"({"model":"gpt","choices":[{"index":0,"message":{"role":"assistant","content":"It is mild.",
             "tool_calls":[{"id":"call_0","type":"function","function":{"name":"get_weather",
             "arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":20,"completion_tokens":10,"prompt_tokens_details":{"cached_tokens":5}}})",
         "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"It is \"}}]}\n\n"
         "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"mild.\"}}]}\n\n"
         "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_0\",\"type\":"
         "\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}}]}\n\n"
         "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
         "\"{\\\"city\\\":\\\"Paris\\\"}\"}}]}}]}\n\n"
         "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
         "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":10,"
         "\"prompt_tokens_details\":{\"cached_tokens\":5}}}\n\ndata: [DONE]\n\n",
         [](std::string_view b) { return test::decode_in_pieces(openai_p, b, 5); }},
        {"anthropic", [](const http::response& a) { return anthropic_p.decode(a); },
         R"({"model":"claude","content":[{"type":"text","text":"It is mild."},
             {"type":"tool_use","id":"call_0","name":"get_weather","input":{"city":"Paris"}}],
             "stop_reason":"tool_use",
             "usage":{"input_tokens":15,"cache_read_input_tokens":5,"cache_creation_input_tokens":0,"output_tokens":10}})",
         "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":15,"
         "\"cache_read_input_tokens\":5,\"output_tokens\":1}}}\n\n"
         "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
         "{\"type\":\"text\",\"text\":\"\"}}\n\n"
         "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
         "\"text_delta\",\"text\":\"It is mild.\"}}\n\n"
         "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
         "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":"
         "{\"type\":\"tool_use\",\"id\":\"call_0\",\"name\":\"get_weather\",\"input\":{}}}\n\n"
         "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":"
         "\"input_json_delta\",\"partial_json\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}\n\n"
         "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
         "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},"
         "\"usage\":{\"output_tokens\":10}}\n\n"
         "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
         [](std::string_view b) { return test::decode_in_pieces(anthropic_p, b, 5); }},
        {"gemini", [](const http::response& a) { return gemini_p.decode(a); },
         R"({"candidates":[{"content":{"role":"model","parts":[{"text":"It is mild."},
             {"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]},"finishReason":"STOP"}],
             "usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":10,"cachedContentTokenCount":5}})",
         "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"It is \"}]}}]}\r\n\r\n"
         "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"mild.\"},{\"functionCall\":"
         "{\"name\":\"get_weather\",\"args\":{\"city\":\"Paris\"}}}]},\"finishReason\":\"STOP\"}],"
         "\"usageMetadata\":{\"promptTokenCount\":20,\"candidatesTokenCount\":10,\"cachedContentTokenCount\":5}}"
         "\r\n\r\n",
         [](std::string_view b) { return test::decode_in_pieces(gemini_p, b, 5); }},
    };
}

} // namespace

TEST_CASE("one request becomes each provider's equivalent prompt", "[provider][normalization]")
{
    for (const auto& c : encode_cases()) {
        INFO(c.provider);
        auto wire = c.encode(conversation());
        REQUIRE(wire);
        CHECK(boost::json::parse(wire.value().body) == boost::json::parse(c.expected));
    }
}

TEST_CASE("each provider's form of one answer becomes the same response, complete or streamed",
          "[provider][normalization]")
{
    for (const auto& c : answer_cases()) {
        INFO(c.provider);
        auto whole = c.decode(http::response{200, {}, c.complete});
        REQUIRE(whole);
        response normalized = whole.value();
        normalized.model.clear(); // each names its model its own way
        CHECK(normalized == expected_answer);

        const auto streamed = c.stream(c.streamed);
        REQUIRE_FALSE(streamed.failure);
        CHECK(streamed.text == expected_answer.text);
        CHECK(streamed.tool_calls == expected_answer.tool_calls);
        CHECK(streamed.finish == expected_answer.finish_reason);
        CHECK(streamed.last_usage == expected_answer.usage);
    }
}

TEST_CASE("finish reasons mean the same on every provider", "[provider][normalization]")
{
    using provider::detail::anthropic_finish;
    using provider::detail::gemini_finish;
    using provider::detail::openai_finish;
    struct row {
        finish_reason normalized;
        const char* openai;
        const char* anthropic;
        const char* gemini;
    };
    for (const auto& r : std::vector<row>{
             {finish_reason::stop, "stop", "end_turn", "STOP"},
             {finish_reason::stop, "stop", "stop_sequence", "STOP"},
             {finish_reason::length, "length", "max_tokens", "MAX_TOKENS"},
             {finish_reason::tool_calls, "tool_calls", "tool_use", "STOP"}, // Gemini: STOP with calls
             {finish_reason::content_filter, "content_filter", "refusal", "SAFETY"},
             {finish_reason::other, "something_new", "pause_turn", "OTHER"},
         }) {
        INFO(to_string(r.normalized));
        CHECK(openai_finish(r.openai) == r.normalized);
        CHECK(anthropic_finish(r.anthropic) == r.normalized);
        if (r.normalized != finish_reason::tool_calls)
            CHECK(gemini_finish(r.gemini) == r.normalized);
    }
    CHECK(gemini_finish("RECITATION") == finish_reason::content_filter);
    CHECK(gemini_finish("MALFORMED_FUNCTION_CALL") == finish_reason::error);
}
