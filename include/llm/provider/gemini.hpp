// llm::provider::gemini: Google's Gemini API (generateContent, streamGenerateContent?alt=sse,
// batchEmbedContents).
//
//   llm::client<llm::transport::https, llm::provider::gemini> ai(io.get_executor());
//   // the key from GEMINI_API_KEY (sent as x-goog-api-key), the base URL from GEMINI_BASE_URL
//
// System turns become systemInstruction; the assistant is "model"; tool results travel as
// functionResponse parts, matched to their call by name (Gemini's calls carry no ids, so the
// decoder numbers them "call_0", "call_1", ... within an answer). A call's thought signature is
// kept in tool_call::signature and sent back with it, as Gemini 3 requires.
#pragma once

#include <llm/core/chunk.hpp>
#include <llm/core/embedding.hpp>
#include <llm/core/request.hpp>
#include <llm/core/response.hpp>
#include <llm/core/result.hpp>
#include <llm/http/message.hpp>
#include <llm/provider/detail/event_stream.hpp>
#include <llm/provider/detail/http_errors.hpp>
#include <llm/provider/detail/json_reader.hpp>
#include <llm/provider/detail/json_writer.hpp>
#include <llm/provider/detail/request_checks.hpp>

#include <cstdint>     // std::uint64_t
#include <cstdlib>     // std::getenv
#include <optional>    // a failure
#include <string>      // config
#include <string_view> // names
#include <vector>      // parts

namespace llm::provider {

struct gemini_config {
    std::string api_key;                                                // x-goog-api-key; never logged
    std::string base_url = "https://generativelanguage.googleapis.com"; // up to, not including, /v1beta
    std::string api_version = "v1beta";

    // GEMINI_API_KEY (or GOOGLE_API_KEY) and GEMINI_BASE_URL, as Google's SDKs and tools read them.
    static gemini_config from_environment()
    {
        gemini_config c;
        if (const char* key = std::getenv("GEMINI_API_KEY"); key && *key)
            c.api_key = key;
        else if (const char* google = std::getenv("GOOGLE_API_KEY"))
            c.api_key = google;
        if (const char* url = std::getenv("GEMINI_BASE_URL"); url && *url)
            c.base_url = url;
        return c;
    }
};

namespace detail {

inline finish_reason gemini_finish(std::string_view reason) noexcept
{
    if (reason == "STOP")
        return finish_reason::stop;
    if (reason == "MAX_TOKENS")
        return finish_reason::length;
    if (reason == "SAFETY" || reason == "RECITATION" || reason == "BLOCKLIST" || reason == "PROHIBITED_CONTENT" ||
        reason == "SPII" || reason == "IMAGE_SAFETY" || reason == "IMAGE_PROHIBITED_CONTENT")
        return finish_reason::content_filter;
    if (reason == "MALFORMED_FUNCTION_CALL" || reason == "UNEXPECTED_TOOL_CALL")
        return finish_reason::error;
    return finish_reason::other;
}

// Gemini's output count leaves out the thinking; llm::usage's output includes it, as billed.
inline usage gemini_usage(const json::value* u, typed_fields& f)
{
    return {f.count(u, "promptTokenCount"), f.count(u, "candidatesTokenCount") + f.count(u, "thoughtsTokenCount"),
            f.count(u, "cachedContentTokenCount")};
}

// {"error": {"code", "message", "status", "details": [...]}}: RetryInfo's retryDelay ("37s")
// says when to retry; an API_KEY_INVALID reason makes a 400 the credentials' fault.
inline error gemini_error_from(const json::value* e, const http::response* answer)
{
    const auto type = text_at(e, "status");
    const auto message = text_at(e, "message");
    error out = answer ? http_error(*answer, "gemini", type, message)
                       : error{errc_for_type(type), "gemini: " + std::string(message)};
    if (!answer)
        out.provider_type = std::string(type);
    if (const auto* details = array_at(e, "details")) {
        for (const auto& d : *details) {
            if (const auto delay = text_at(&d, "retryDelay"); !delay.empty() && !out.retry_after)
                out.retry_after = duration_text(delay);
            if (text_at(&d, "reason") == "API_KEY_INVALID")
                out.code = make_error_code(errc::unauthorized);
        }
    }
    return out;
}

inline error gemini_error(const http::response& answer)
{
    return error_from_body(answer, "gemini", [&](const json::value& body) {
        const auto* root = body.is_array() && !body.as_array().empty() ? &body.as_array()[0] : &body;
        return gemini_error_from(member(root, "error"), &answer);
    });
}

// What one GenerateContentResponse adds: text, calls, finish reason and usage. Used whole for a
// complete answer and event by event for a stream.
class gemini_reader {
public:
    // Reads one response object into `c`; `calls` numbers the calls across the whole answer.
    std::optional<error> read(const json::value& v, chunk& c)
    {
        if (!v.is_object())
            return malformed("gemini", "a response is not a JSON object");
        if (const auto* e = member(&v, "error"))
            return gemini_error_from(e, nullptr);
        typed_fields f("gemini");
        if (auto bad = read_fields(v, c, f))
            return bad;
        return f.failure();
    }

    bool finished() const noexcept { return finished_; }

private:
    std::optional<error> read_fields(const json::value& v, chunk& c, typed_fields& f)
    {
        if (const auto* u = member(&v, "usageMetadata"); u && u->is_object())
            c.usage = gemini_usage(u, f);
        const auto* candidates = array_at(&v, "candidates");
        if (!candidates || candidates->empty()) {
            // A prompt blocked before generation: no candidates, a blockReason, HTTP 200.
            if (!text_at(member(&v, "promptFeedback"), "blockReason").empty()) {
                c.finish_reason = finish_reason::content_filter;
                finished_ = true;
                return std::nullopt;
            }
            if (const auto* field = member(&v, "candidates"); field && !field->is_array())
                return malformed("gemini", "candidates is not an array");
            return std::nullopt; // a usage-only event
        }
        const auto& candidate = (*candidates)[0];
        if (const auto* parts = array_at(member(&candidate, "content"), "parts")) {
            for (const auto& part : *parts) {
                if (flag_at(&part, "thought"))
                    continue; // a thought summary is not the answer
                c.text += f.text(&part, "text");
                if (const auto* call = member(&part, "functionCall")) {
                    const auto* args = member(call, "args");
                    c.tool_calls.push_back({.index = calls_,
                                            .id = "call_" + std::to_string(calls_),
                                            .name = std::string(f.text(call, "name")),
                                            .arguments = args ? json::serialize(*args) : std::string("{}"),
                                            .signature = std::string(text_at(&part, "thoughtSignature"))});
                    ++calls_;
                }
            }
        }
        if (const auto reason = f.text(&candidate, "finishReason"); !reason.empty()) {
            auto r = gemini_finish(reason);
            c.finish_reason = r == finish_reason::stop && calls_ > 0 ? finish_reason::tool_calls : r;
            finished_ = true;
        }
        return std::nullopt;
    }

    std::size_t calls_ = 0;
    bool finished_ = false;
};

// One event of streamGenerateContent?alt=sse: a whole GenerateContentResponse. The answer's
// last event carries the finish reason; there is no other terminal event.
class gemini_events {
public:
    static constexpr std::string_view terminal = "a finishReason";

    bool finished() const noexcept { return reader_.finished(); }

    std::optional<error> on_event(const sse::event& e, std::vector<chunk>& out)
    {
        unsigned char buffer[16384];
        json::monotonic_resource arena(buffer, sizeof buffer);
        json::value v;
        if (auto bad = parse_into(v, e.data, arena, "gemini", "a stream event"))
            return bad;
        chunk c;
        if (auto bad = reader_.read(v, c))
            return bad;
        if (!c.text.empty() || !c.tool_calls.empty() || c.finish_reason || c.usage)
            out.push_back(std::move(c));
        return std::nullopt;
    }

private:
    gemini_reader reader_;
};

} // namespace detail

class gemini {
public:
    using config_type = gemini_config;
    using stream_decoder = detail::event_stream<detail::gemini_events>;

    gemini() : gemini(gemini_config::from_environment()) {}
    explicit gemini(gemini_config c) : config_(std::move(c))
    {
        config_.base_url = detail::without_trailing_slashes(std::move(config_.base_url));
    }

    const gemini_config& config() const noexcept { return config_; }

    result<http::request> encode(const request& r) const { return encode_generate(r, false); }

    // POST models/{model}:countTokens with the whole generateContent request (system
    // instruction and tools included, which a bare `contents` would leave out): the input
    // tokens the request would be billed, counted by Google.
    result<http::request> encode_count(const request& r) const
    {
        BOOST_OUTCOME_TRY(auto generate, encode_generate(r, false));
        http::request out = post(r.model, ":countTokens");
        out.body.reserve(generate.body.size() + r.model.size() + 48);
        detail::json_writer w(out.body);
        w.begin_object().key("generateContentRequest").begin_object().key("model").string("models/" + r.model);
        // The generateContent body's members follow the model's, inside the same object.
        out.body += ',';
        out.body.append(generate.body, 1, std::string::npos);
        out.body += '}';
        return out;
    }

    // The count from countTokens' answer ({"totalTokens": n, ...}), or the error it reports.
    result<std::uint64_t> decode_count(const http::response& answer) const
    {
        return detail::count_answer(answer, "gemini", "totalTokens", detail::gemini_error);
    }
    result<http::request> encode_stream(const request& r) const { return encode_generate(r, true); }

    // A generateContent answer, or a whole streamGenerateContent body read without alt=sse (a
    // JSON array of responses), merged into one answer.
    result<response> decode(const http::response& answer) const
    {
        if (answer.status < 200 || answer.status > 299)
            return detail::gemini_error(answer);
        detail::json::monotonic_resource arena;
        detail::json::value v;
        if (auto bad = detail::parse_into(v, answer.body, arena, "gemini", "the response body"))
            return *bad;
        detail::gemini_reader reader;
        response out;
        std::string model;
        auto take = [&](const detail::json::value& item) -> std::optional<error> {
            chunk c;
            if (auto bad = reader.read(item, c))
                return bad;
            out.text += c.text;
            for (auto& call : c.tool_calls)
                out.tool_calls.push_back(
                    {std::move(call.id), std::move(call.name), std::move(call.arguments), std::move(call.signature)});
            if (c.finish_reason)
                out.finish_reason = *c.finish_reason;
            if (c.usage)
                out.usage = *c.usage;
            if (const auto version = detail::text_at(&item, "modelVersion"); !version.empty())
                out.model = std::string(version);
            return std::nullopt;
        };
        if (const auto* all = v.if_array()) {
            for (const auto& item : *all)
                if (auto bad = take(item))
                    return *bad;
        } else if (auto bad = take(v)) {
            return *bad;
        }
        if (!reader.finished())
            return detail::malformed("gemini", "the answer has no finishReason and no blocked prompt");
        out.rate_limits = detail::rate_limits_of(answer.headers);
        return out;
    }

    stream_decoder decoder() const { return stream_decoder(detail::gemini_events{}, "gemini"); }

    result<http::request> encode_embeddings(const embedding_request& r) const
    {
        if (auto bad = ready(r.model))
            return *bad;
        if (r.inputs.empty())
            return error{errc::bad_request, "embedding_request.inputs is empty: give at least one text"};
        http::request out = post(r.model, ":batchEmbedContents");
        detail::json_writer w(out.body);
        w.begin_object().key("requests").begin_array();
        for (const auto& text : r.inputs) {
            w.begin_object().key("model").string("models/" + r.model).key("content").begin_object();
            w.key("parts").begin_array().begin_object().key("text").string(text).end_object().end_array();
            w.end_object();
            if (r.dimensions)
                w.key("outputDimensionality").number(std::uint64_t{*r.dimensions});
            w.end_object();
        }
        w.end_array().end_object();
        if (!w.valid())
            return error{errc::bad_request, "an embedding input is not valid UTF-8"};
        return out;
    }

    result<embedding_response> decode_embeddings(const http::response& answer) const
    {
        if (answer.status < 200 || answer.status > 299)
            return detail::gemini_error(answer);
        detail::json::monotonic_resource arena;
        detail::json::value v;
        if (auto bad = detail::parse_into(v, answer.body, arena, "gemini", "the embeddings body"))
            return *bad;
        const auto* embeddings = detail::array_at(&v, "embeddings");
        if (!embeddings)
            return detail::malformed("gemini", "the embeddings answer has no embeddings array");
        embedding_response out;
        out.vectors.resize(embeddings->size());
        for (std::size_t i = 0; i < embeddings->size(); ++i) {
            const auto* values = detail::array_at(&(*embeddings)[i], "values");
            if (!values)
                return detail::malformed("gemini", "embeddings[" + std::to_string(i) + "] has no values array");
            if (auto bad = detail::floats(*values, out.vectors[i], "gemini"))
                return *bad;
        }
        out.usage.input_tokens = detail::count_at(detail::member(&v, "usageMetadata"), "promptTokenCount").value_or(0);
        return out;
    }

private:
    std::optional<error> ready(const std::string& model) const
    {
        if (config_.api_key.empty())
            return error{errc::invalid_configuration,
                         "gemini: no API key: set GEMINI_API_KEY or gemini_config::api_key"};
        if (model.empty())
            return error{errc::bad_request, "request.model is empty: name the model to call"};
        if (model.find_first_of("/?#: ") != std::string::npos)
            return error{errc::bad_request, "request.model must be a bare model name such as gemini-2.5-flash"};
        return std::nullopt;
    }

    http::request post(const std::string& model, std::string_view method) const
    {
        http::request out;
        out.url = config_.base_url + "/" + config_.api_version + "/models/" + model + std::string(method);
        out.headers.add("Content-Type", "application/json");
        out.headers.add("x-goog-api-key", config_.api_key);
        return out;
    }

    result<http::request> encode_generate(const request& r, bool stream) const
    {
        if (auto bad = ready(r.model))
            return *bad;
        if (auto bad = detail::check_json_fields(r))
            return *bad;
        http::request out = post(r.model, stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
        if (stream)
            out.headers.add("Accept", "text/event-stream");
        out.body.reserve(256 + r.messages.size() * 64);
        detail::json_writer w(out.body);
        w.begin_object();
        bool system = false;
        for (const auto& m : r.messages) {
            if (m.role != role::system)
                continue;
            if (!system)
                w.key("systemInstruction").begin_object().key("parts").begin_array();
            system = true;
            w.begin_object().key("text").string(m.text).end_object();
        }
        if (system)
            w.end_array().end_object();
        if (auto bad = write_contents(w, r))
            return *bad;
        if (!r.tools.empty()) {
            w.key("tools").begin_array().begin_object().key("functionDeclarations").begin_array();
            for (const auto& t : r.tools) {
                w.begin_object().key("name").string(t.name);
                if (!t.description.empty())
                    w.key("description").string(t.description);
                w.key("parametersJsonSchema").raw(t.parameters).end_object();
            }
            w.end_array().end_object().end_array();
        }
        if (r.tool_choice) {
            static constexpr std::string_view modes[] = {"AUTO", "NONE", "ANY", "ANY"};
            w.key("toolConfig").begin_object().key("functionCallingConfig").begin_object();
            w.key("mode").string(modes[static_cast<int>(r.tool_choice->kind)]);
            if (r.tool_choice->kind == tool_choice::mode::tool)
                w.key("allowedFunctionNames").begin_array().string(r.tool_choice->name).end_array();
            w.end_object().end_object();
        }
        if (r.max_tokens || r.temperature || r.top_p || !r.stop.empty() || r.response_format) {
            w.key("generationConfig").begin_object();
            if (r.max_tokens)
                w.key("maxOutputTokens").number(std::uint64_t{*r.max_tokens});
            if (r.temperature)
                w.key("temperature").number(*r.temperature);
            if (r.top_p)
                w.key("topP").number(*r.top_p);
            if (!r.stop.empty()) {
                w.key("stopSequences").begin_array();
                for (const auto& s : r.stop)
                    w.string(s);
                w.end_array();
            }
            if (r.response_format) {
                w.key("responseMimeType").string("application/json");
                w.key("responseJsonSchema").raw(r.response_format->schema);
            }
            w.end_object();
        }
        w.end_object();
        if (!w.valid())
            return error{errc::bad_request, "the request holds text that is not valid UTF-8"};
        return out;
    }

    // The conversation: user and model turns, consecutive turns of one role merged; a tool
    // result becomes a functionResponse named after the call it answers.
    static std::optional<error> write_contents(detail::json_writer& w, const request& r)
    {
        w.key("contents").begin_array();
        std::optional<bool> open_is_model;
        for (const auto& m : r.messages) {
            if (m.role == role::system)
                continue;
            const bool model = m.role == role::assistant;
            if (open_is_model != model) {
                if (open_is_model)
                    w.end_array().end_object();
                w.begin_object().key("role").string(model ? "model" : "user").key("parts").begin_array();
                open_is_model = model;
            }
            if (!m.text.empty())
                w.begin_object().key("text").string(m.text).end_object();
            for (const auto& call : m.tool_calls) {
                w.begin_object().key("functionCall").begin_object().key("name").string(call.name);
                w.key("args").raw(call.arguments.empty() ? "{}" : call.arguments).end_object();
                if (!call.signature.empty())
                    w.key("thoughtSignature").string(call.signature);
                w.end_object();
            }
            for (const auto& result : m.tool_results) {
                const auto* name = called(r, result.call_id);
                if (!name)
                    return error{errc::bad_request, "gemini: the tool result for '" + result.call_id +
                                                        "' answers no tool call in the conversation"};
                w.begin_object().key("functionResponse").begin_object().key("name").string(*name);
                w.key("response").begin_object();
                w.key(result.is_error ? "error" : "result");
                if (detail::is_json_object(result.content))
                    w.raw(result.content);
                else
                    w.string(result.content);
                w.end_object().end_object().end_object();
            }
        }
        if (!open_is_model)
            return error{errc::bad_request, "gemini: the request has system turns only; add a user message"};
        w.end_array().end_object().end_array();
        return std::nullopt;
    }

    // The name of the latest tool call with this id.
    static const std::string* called(const request& r, const std::string& id)
    {
        for (auto m = r.messages.rbegin(); m != r.messages.rend(); ++m)
            for (const auto& call : m->tool_calls)
                if (call.id == id)
                    return &call.name;
        return nullptr;
    }

    gemini_config config_;
};

} // namespace llm::provider
