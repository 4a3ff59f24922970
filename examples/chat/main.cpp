// chat: one prompt to a provider, its answer streamed to stdout as it arrives.
//
//   chat [--provider openai|anthropic|gemini|ollama] [--model M] "prompt"
//
// Keys come from OPENAI_API_KEY, ANTHROPIC_API_KEY and GEMINI_API_KEY; OPENAI_BASE_URL,
// ANTHROPIC_BASE_URL, GEMINI_BASE_URL and OLLAMA_HOST move the endpoints, as the providers'
// own SDKs and tools read them. Usage goes to stderr at the end. Ctrl-C cancels the upstream
// request at once, so the provider stops generating (and billing) tokens.
#include <llm/client.hpp>
#include <llm/provider/anthropic.hpp>
#include <llm/provider/gemini.hpp>
#include <llm/provider/openai.hpp>
#include <llm/transport/https.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

constexpr int usage_error = 2;
constexpr int interrupted = 130; // as a shell reports SIGINT

int usage(const char* why)
{
    std::fprintf(stderr,
                 "chat: %s\n"
                 "usage: chat [--provider openai|anthropic|gemini|ollama] [--model M] \"prompt\"\n",
                 why);
    return usage_error;
}

bool has_env(const char* name)
{
    const char* v = std::getenv(name);
    return v && *v;
}

// Streams the answer to `prompt`; returns the exit status.
template <class Provider>
int chat(Provider provider, std::string model, std::string prompt)
{
    asio::io_context io;
    llm::client<llm::transport::https, Provider> ai(llm::transport::https(io.get_executor()), std::move(provider));
    auto stream = ai.stream(llm::request{.model = std::move(model), .messages = {llm::user(std::move(prompt))}});

    asio::signal_set stop(io, SIGINT, SIGTERM);
    bool cancelled = false;
    stop.async_wait([&](std::error_code ec, int) {
        if (!ec) {
            cancelled = true;
            stream.cancel(); // closes the connection: the provider stops generating
        }
    });

    int status = 0;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            llm::usage used;
            std::optional<llm::finish_reason> finish;
            while (true) {
                auto next = co_await stream.next();
                if (!next) {
                    std::fflush(stdout);
                    if (!cancelled)
                        std::fprintf(stderr, "\nchat: %s\n", next.error().describe().c_str());
                    status = cancelled ? interrupted : 1;
                    break;
                }
                if (!next.value())
                    break;
                const auto& piece = *next.value();
                std::fwrite(piece.text.data(), 1, piece.text.size(), stdout);
                std::fflush(stdout);
                for (const auto& call : piece.tool_calls)
                    if (!call.name.empty())
                        std::fprintf(stdout, "\n[tool call: %s]", call.name.c_str());
                if (piece.usage)
                    used = *piece.usage;
                if (piece.finish_reason)
                    finish = piece.finish_reason;
            }
            if (status == 0)
                std::fprintf(stderr, "\n[%llu tokens in (%llu cached), %llu out; finish: %s]\n",
                             static_cast<unsigned long long>(used.input_tokens),
                             static_cast<unsigned long long>(used.cached_input_tokens),
                             static_cast<unsigned long long>(used.output_tokens),
                             finish ? std::string(llm::to_string(*finish)).c_str() : "none");
            stop.cancel();
        },
        [](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e);
        });
    io.run();
    return status;
}

} // namespace

int main(int argc, char** argv)
{
    std::string provider = "openai", model, prompt;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if ((arg == "--provider" || arg == "--model") && i + 1 < argc)
            (arg == "--provider" ? provider : model) = argv[++i];
        else if (arg == "--help" || arg == "-h")
            return usage("streams one prompt's answer to stdout"), 0;
        else if (arg.starts_with("--"))
            return usage(("unknown option " + std::string(arg)).c_str());
        else if (prompt.empty())
            prompt = arg;
        else
            return usage("give the prompt as one argument (quote it)");
    }
    if (prompt.empty())
        return usage("no prompt given");

    if (provider == "openai") {
        if (!has_env("OPENAI_API_KEY"))
            return usage("OPENAI_API_KEY is not set: export your OpenAI key, or choose another --provider");
        return chat(llm::provider::openai(), model.empty() ? "gpt-4.1-mini" : model, prompt);
    }
    if (provider == "anthropic") {
        if (!has_env("ANTHROPIC_API_KEY"))
            return usage("ANTHROPIC_API_KEY is not set: export your Anthropic key, or choose another --provider");
        return chat(llm::provider::anthropic(), model.empty() ? "claude-sonnet-4-5" : model, prompt);
    }
    if (provider == "gemini") {
        if (!has_env("GEMINI_API_KEY") && !has_env("GOOGLE_API_KEY"))
            return usage("GEMINI_API_KEY is not set: export your Gemini key, or choose another --provider");
        return chat(llm::provider::gemini(), model.empty() ? "gemini-2.5-flash" : model, prompt);
    }
    if (provider == "ollama")
        return chat(llm::provider::openai_compatible(llm::provider::openai_config::ollama()),
                    model.empty() ? "llama3.1" : model, prompt);
    return usage(("unknown provider " + provider).c_str());
}
