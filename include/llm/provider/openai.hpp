// llm::provider::openai: OpenAI's Chat Completions and Embeddings APIs, and, as
// llm::provider::openai_compatible, every server that speaks them (Ollama, vLLM, the llama.cpp
// server, gateways, Gemini's and Anthropic's compatibility endpoints).
//
//   llm::client<llm::transport::https, llm::provider::openai> ai(io.get_executor());
//   // the key from OPENAI_API_KEY, the base URL from OPENAI_BASE_URL (or api.openai.com)
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
#include <llm/provider/detail/tool_calls.hpp>

#include <cstdint>     // std::uint64_t
#include <cstdlib>     // std::getenv
#include <optional>    // config
#include <string>      // config
#include <string_view> // names
#include <utility>     // std::pair
#include <vector>      // chunks

namespace llm::provider {

// Which name the request's max_tokens goes out under: OpenAI's current models want
// max_completion_tokens (and refuse max_tokens on reasoning models); most compatible servers
// know only max_tokens.
enum class max_tokens_field { max_tokens, max_completion_tokens };

struct openai_config {
    std::string api_key;                                // sent as "Authorization: Bearer ..."; never logged
    std::string base_url = "https://api.openai.com/v1"; // up to, not including, /chat/completions
    std::string organization;                           // OpenAI-Organization, if set
    std::string project;                                // OpenAI-Project, if set
    bool key_required = true;                           // local servers often need none
    max_tokens_field token_field = max_tokens_field::max_completion_tokens;
    std::string name = "openai"; // how errors name the provider

    // OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORG_ID and OPENAI_PROJECT_ID, as OpenAI's SDKs read them.
    static openai_config from_environment()
    {
        openai_config c;
        if (const char* key = std::getenv("OPENAI_API_KEY"))
            c.api_key = key;
        if (const char* url = std::getenv("OPENAI_BASE_URL"); url && *url)
            c.base_url = url;
        if (const char* org = std::getenv("OPENAI_ORG_ID"))
            c.organization = org;
        if (const char* project = std::getenv("OPENAI_PROJECT_ID"))
            c.project = project;
        return c;
    }

    // A compatible server at `base_url` (e.g. "http://127.0.0.1:8000/v1"), its key optional.
    static openai_config compatible(std::string base_url, std::string api_key = {})
    {
        openai_config c;
        c.base_url = std::move(base_url);
        c.api_key = std::move(api_key);
        c.key_required = false;
        c.token_field = max_tokens_field::max_tokens;
        c.name = "openai-compatible";
        return c;
    }

    // Ollama's OpenAI-compatible API: OLLAMA_HOST ("host:port" or a URL) as the ollama CLI reads
    // it, 127.0.0.1:11434 by default.
    static openai_config ollama()
    {
        std::string host = "http://127.0.0.1:11434";
        if (const char* env = std::getenv("OLLAMA_HOST"); env && *env) {
            host = env;
            if (host.find("://") == std::string::npos)
                host = "http://" + host;
            host = detail::without_trailing_slashes(std::move(host));
        }
        auto c = compatible(host + "/v1");
        c.name = "ollama";
        return c;
    }
};

namespace detail {

inline finish_reason openai_finish(std::string_view reason) noexcept
{
    if (reason == "stop" || reason == "eos")
        return finish_reason::stop;
    if (reason == "length" || reason == "max_tokens")
        return finish_reason::length;
    if (reason == "tool_calls" || reason == "function_call")
        return finish_reason::tool_calls;
    if (reason == "content_filter")
        return finish_reason::content_filter;
    if (reason == "error")
        return finish_reason::error;
    return finish_reason::other;
}

// Compatible servers (Ollama, Gemini's endpoint) say "stop" after a tool call; so that
// finish_reason means the same everywhere, a turn that asks for tools ends in tool_calls, and one
// the model refused in content_filter.
inline finish_reason normalized_finish(finish_reason r, bool called_tools, bool refused) noexcept
{
    if (r == finish_reason::stop && called_tools)
        return finish_reason::tool_calls;
    if (r == finish_reason::stop && refused)
        return finish_reason::content_filter;
    return r;
}

inline usage openai_usage(const json::value* u, typed_fields& f)
{
    usage out;
    out.input_tokens = f.count(u, "prompt_tokens");
    out.output_tokens = f.count(u, "completion_tokens");
    out.cached_input_tokens = f.count(member(u, "prompt_tokens_details"), "cached_tokens");
    return out;
}

// A call's arguments: JSON text in a string, as OpenAI sends them, or (some compatible servers)
// the JSON object itself.
inline std::string arguments_text(const json::value* function)
{
    const auto* args = member(function, "arguments");
    if (!args || args->is_null())
        return {};
    if (const auto* s = args->if_string())
        return std::string(*s);
    return json::serialize(*args);
}

// An error body: {"error": {"message", "type", "code"}}, or Ollama's {"error": "text"}.
// An error object's kind: its type, or its code when it has no type.
inline std::string_view openai_error_type(const json::value* e) noexcept
{
    const auto type = text_at(e, "type");
    return type.empty() ? text_at(e, "code") : type;
}

inline error openai_error(const http::response& answer, std::string_view provider)
{
    return error_from_body(answer, provider, [&](const json::value& body) {
        const auto* e = member(&body, "error");
        if (e && e->is_string())
            return http_error(answer, provider, {}, e->get_string());
        return http_error(answer, provider, openai_error_type(e), text_at(e, "message"));
    });
}

// One event of a Chat Completions stream.
class openai_events {
public:
    static constexpr std::string_view terminal = "data: [DONE]";

    explicit openai_events(std::string_view provider) : provider_(provider) {}

    bool finished() const noexcept { return done_; }

    std::optional<error> on_event(const sse::event& e, std::vector<chunk>& out)
    {
        if (e.data == "[DONE]") {
            done_ = true;
            return std::nullopt;
        }
        unsigned char buffer[8192];
        json::monotonic_resource arena(buffer, sizeof buffer);
        json::value v;
        if (auto bad = parse_into(v, e.data, arena, provider_, "a stream event"))
            return bad;
        if (const auto* failure = member(&v, "error")) { // inside a 200 stream: the answer failed
            const auto type = openai_error_type(failure);
            error err{errc_for_type(type), std::string(provider_) + ": " + std::string(text_at(failure, "message"))};
            err.provider_type = std::string(type);
            return err;
        }
        if (!v.is_object())
            return malformed(provider_, "a stream event is not a JSON object");
        chunk c;
        typed_fields f(provider_);
        if (const auto* choices = array_at(&v, "choices")) {
            for (const auto& choice : *choices) {
                if (count_at(&choice, "index").value_or(0) != 0)
                    continue; // we ask for one choice; a server that sends more gets the first read
                if (auto bad = take_choice(choice, c, f))
                    return bad;
            }
        } else if (const auto* choices_field = member(&v, "choices"); choices_field && !choices_field->is_null()) {
            return malformed(provider_, "a stream event's choices is not an array");
        }
        if (const auto* u = member(&v, "usage"); u && u->is_object())
            c.usage = openai_usage(u, f);
        if (f.failure())
            return f.failure();
        if (!c.text.empty() || !c.tool_calls.empty() || c.finish_reason || c.usage)
            out.push_back(std::move(c));
        return std::nullopt;
    }

private:
    std::optional<error> take_choice(const json::value& choice, chunk& c, typed_fields& f)
    {
        const auto* delta = member(&choice, "delta");
        c.text += f.text(delta, "content");
        if (const auto refusal = f.text(delta, "refusal"); !refusal.empty()) {
            refused_ = true;
            c.text += refusal;
        }
        if (const auto* calls = array_at(delta, "tool_calls")) {
            for (const auto& call : *calls) {
                if (!call.is_object())
                    return malformed(provider_, "a tool_calls entry is not an object");
                const auto* function = member(&call, "function");
                tool_call_delta d;
                d.id = std::string(f.text(&call, "id"));
                d.index = calls_.of(count_at(&call, "index"), d.id);
                d.name = std::string(f.text(function, "name"));
                d.arguments = arguments_text(function);
                c.tool_calls.push_back(std::move(d));
            }
        }
        if (const auto reason = f.text(&choice, "finish_reason"); !reason.empty())
            c.finish_reason = normalized_finish(openai_finish(reason), calls_.any(), refused_);
        return std::nullopt;
    }

    std::string_view provider_;
    call_indices calls_;
    bool refused_ = false;
    bool done_ = false;
};

} // namespace detail

class openai {
public:
    using config_type = openai_config;
    using stream_decoder = detail::event_stream<detail::openai_events>;

    openai() : openai(openai_config::from_environment()) {}
    explicit openai(openai_config c) : config_(std::move(c))
    {
        config_.base_url = detail::without_trailing_slashes(std::move(config_.base_url));
    }

    const openai_config& config() const noexcept { return config_; }

    result<http::request> encode(const request& r) const { return encode_chat(r, false); }
    result<http::request> encode_stream(const request& r) const { return encode_chat(r, true); }

    result<response> decode(const http::response& answer) const
    {
        if (answer.status < 200 || answer.status > 299)
            return detail::openai_error(answer, config_.name);
        unsigned char buffer[16384];
        detail::json::monotonic_resource arena(buffer, sizeof buffer);
        detail::json::value v;
        if (auto bad = detail::parse_into(v, answer.body, arena, config_.name, "the response body"))
            return *bad;
        if (detail::member(&v, "error"))
            return detail::openai_error(answer, config_.name);
        const auto* choices = detail::array_at(&v, "choices");
        if (!choices || choices->empty())
            return detail::malformed(config_.name, "the answer has no choices");
        const auto& choice = choices->at(0);
        const auto* m = detail::member(&choice, "message");
        if (!m || !m->is_object())
            return detail::malformed(config_.name, "choices[0] has no message object");
        detail::typed_fields f(config_.name);
        response out;
        out.text = std::string(f.text(m, "content"));
        bool refused = false;
        if (const auto refusal = f.text(m, "refusal"); !refusal.empty()) {
            out.text += refusal;
            refused = true;
        }
        if (const auto* calls = detail::array_at(m, "tool_calls")) {
            for (const auto& call : *calls) {
                const auto* function = detail::member(&call, "function");
                if (!function)
                    return detail::malformed(config_.name, "a tool call has no function");
                out.tool_calls.push_back({std::string(f.text(&call, "id")),
                                          std::string(f.text(function, "name")),
                                          detail::arguments_text(function),
                                          {}});
            }
        }
        out.finish_reason = detail::normalized_finish(detail::openai_finish(f.text(&choice, "finish_reason")),
                                                      !out.tool_calls.empty(), refused);
        out.usage = detail::openai_usage(detail::member(&v, "usage"), f);
        out.model = std::string(f.text(&v, "model"));
        if (f.failure())
            return *f.failure();
        out.rate_limits = detail::rate_limits_of(answer.headers);
        return out;
    }

    stream_decoder decoder() const { return stream_decoder(detail::openai_events(config_.name), config_.name); }

    result<http::request> encode_embeddings(const embedding_request& r) const
    {
        if (auto bad = ready(r.model))
            return *bad;
        if (r.inputs.empty())
            return error{errc::bad_request, "embedding_request.inputs is empty: give at least one text"};
        http::request out = post("/embeddings");
        detail::json_writer w(out.body);
        w.begin_object().key("model").string(r.model).key("input").begin_array();
        for (const auto& text : r.inputs)
            w.string(text);
        w.end_array().key("encoding_format").string("float");
        if (r.dimensions)
            w.key("dimensions").number(std::uint64_t{*r.dimensions});
        w.end_object();
        if (!w.valid())
            return error{errc::bad_request, "an embedding input is not valid UTF-8"};
        return out;
    }

    result<embedding_response> decode_embeddings(const http::response& answer) const
    {
        if (answer.status < 200 || answer.status > 299)
            return detail::openai_error(answer, config_.name);
        detail::json::monotonic_resource arena;
        detail::json::value v;
        if (auto bad = detail::parse_into(v, answer.body, arena, config_.name, "the embeddings body"))
            return *bad;
        const auto* data = detail::array_at(&v, "data");
        if (!data)
            return detail::malformed(config_.name, "the embeddings answer has no data array");
        embedding_response out;
        out.vectors.resize(data->size());
        for (std::size_t i = 0; i < data->size(); ++i) {
            const auto& item = (*data)[i];
            const auto at = detail::count_at(&item, "index").value_or(i);
            const auto* values = detail::array_at(&item, "embedding");
            if (at >= out.vectors.size() || !values)
                return detail::malformed(config_.name, "data[" + std::to_string(i) + "] has no embedding array");
            if (auto bad = detail::floats(*values, out.vectors[at], config_.name))
                return *bad;
        }
        out.usage.input_tokens = detail::count_at(detail::member(&v, "usage"), "prompt_tokens").value_or(0);
        out.model = std::string(detail::text_at(&v, "model"));
        return out;
    }

private:
    std::optional<error> ready(const std::string& model) const
    {
        if (config_.key_required && config_.api_key.empty())
            return error{errc::invalid_configuration,
                         config_.name + ": no API key: set OPENAI_API_KEY or openai_config::api_key"};
        if (config_.base_url.empty())
            return error{errc::invalid_configuration, config_.name + ": no base URL: set openai_config::base_url"};
        if (model.empty())
            return error{errc::bad_request, "request.model is empty: name the model to call"};
        return std::nullopt;
    }

    http::request post(std::string_view path) const
    {
        http::request out;
        out.url = config_.base_url + std::string(path);
        out.headers.add("Content-Type", "application/json");
        if (!config_.api_key.empty())
            out.headers.add("Authorization", "Bearer " + config_.api_key);
        if (!config_.organization.empty())
            out.headers.add("OpenAI-Organization", config_.organization);
        if (!config_.project.empty())
            out.headers.add("OpenAI-Project", config_.project);
        return out;
    }

    result<http::request> encode_chat(const request& r, bool stream) const
    {
        if (auto bad = ready(r.model))
            return *bad;
        if (auto bad = detail::check_json_fields(r))
            return *bad;
        http::request out = post("/chat/completions");
        if (stream)
            out.headers.add("Accept", "text/event-stream");
        out.body.reserve(256 + r.messages.size() * 64);
        detail::json_writer w(out.body);
        w.begin_object().key("model").string(r.model).key("messages").begin_array();
        for (const auto& m : r.messages)
            write_message(w, m);
        w.end_array();
        if (r.max_tokens)
            w.key(config_.token_field == max_tokens_field::max_tokens ? "max_tokens" : "max_completion_tokens")
                .number(std::uint64_t{*r.max_tokens});
        if (r.temperature)
            w.key("temperature").number(*r.temperature);
        if (r.top_p)
            w.key("top_p").number(*r.top_p);
        if (!r.stop.empty()) {
            w.key("stop").begin_array();
            for (const auto& s : r.stop)
                w.string(s);
            w.end_array();
        }
        if (!r.tools.empty()) {
            w.key("tools").begin_array();
            for (const auto& t : r.tools) {
                w.begin_object().key("type").string("function").key("function").begin_object();
                w.key("name").string(t.name);
                if (!t.description.empty())
                    w.key("description").string(t.description);
                w.key("parameters").raw(t.parameters).end_object().end_object();
            }
            w.end_array();
        }
        if (r.tool_choice) {
            w.key("tool_choice");
            switch (r.tool_choice->kind) {
            case tool_choice::mode::automatic:
                w.string("auto");
                break;
            case tool_choice::mode::none:
                w.string("none");
                break;
            case tool_choice::mode::required:
                w.string("required");
                break;
            case tool_choice::mode::tool:
                w.begin_object().key("type").string("function").key("function").begin_object();
                w.key("name").string(r.tool_choice->name).end_object().end_object();
                break;
            }
        }
        if (r.response_format) {
            w.key("response_format").begin_object().key("type").string("json_schema").key("json_schema").begin_object();
            w.key("name").string(r.response_format->name).key("schema").raw(r.response_format->schema);
            w.key("strict").boolean(r.response_format->strict).end_object().end_object();
        }
        if (stream)
            w.key("stream")
                .boolean(true)
                .key("stream_options")
                .begin_object()
                .key("include_usage")
                .boolean(true)
                .end_object();
        w.end_object();
        if (!w.valid())
            return error{errc::bad_request, "the request holds text that is not valid UTF-8"};
        return out;
    }

    static void write_message(detail::json_writer& w, const message& m)
    {
        switch (m.role) {
        case role::system:
        case role::user:
            w.begin_object().key("role").string(m.role == role::system ? "system" : "user");
            w.key("content").string(m.text).end_object();
            return;
        case role::assistant:
            w.begin_object().key("role").string("assistant").key("content");
            if (m.text.empty() && !m.tool_calls.empty())
                w.null();
            else
                w.string(m.text);
            if (!m.tool_calls.empty()) {
                w.key("tool_calls").begin_array();
                for (const auto& call : m.tool_calls) {
                    w.begin_object().key("id").string(call.id).key("type").string("function");
                    w.key("function").begin_object().key("name").string(call.name);
                    w.key("arguments").string(call.arguments.empty() ? "{}" : call.arguments);
                    w.end_object().end_object();
                }
                w.end_array();
            }
            w.end_object();
            return;
        case role::tool:
            for (const auto& result : m.tool_results) {
                w.begin_object().key("role").string("tool").key("tool_call_id").string(result.call_id);
                w.key("content").string(result.content).end_object();
            }
            return;
        }
    }

    openai_config config_;
};

// The same wire format at another address; a key is optional. Build it with
// openai_config::compatible(url), or openai_config::ollama(), which is also what a
// default-constructed one talks to (a local Ollama, the most common compatible server).
class openai_compatible : public openai {
public:
    openai_compatible() : openai(openai_config::ollama()) {}
    explicit openai_compatible(openai_config c) : openai(std::move(c)) {}
};

} // namespace llm::provider
