// examples/chat, run as a user runs it: a child process talking to a loopback server that
// replays recorded provider streams, with the environment variables the SDKs read.
#include <support/fixtures.hpp>
#include <support/loopback_server.hpp>
#include <support/replay.hpp>

#include <catch2/catch.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

namespace {

struct finished {
    int status = -1; // the exit status, or 128 + the signal that ended it
    std::string out, err;
};

// Runs chat with `args` and `env` (added to a minimal environment without any provider's
// variables); with `interrupt`, sends SIGINT once stdout has shown something. Bounded: a child
// still running after 10 s is killed and the test fails.
finished run_chat(const std::vector<std::string>& args, const std::vector<std::string>& env, bool interrupt = false)
{
    int out_pipe[2], err_pipe[2];
    REQUIRE(pipe(out_pipe) == 0);
    REQUIRE(pipe(err_pipe) == 0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        close(out_pipe[0]);
        close(err_pipe[0]);
        std::vector<std::string> all = {LLM_CHAT_EXE};
        all.insert(all.end(), args.begin(), args.end());
        std::vector<char*> argv, envp;
        for (auto& a : all)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        std::vector<std::string> environment = env;
        environment.push_back("PATH=/usr/bin:/bin");
        for (auto& e : environment)
            envp.push_back(e.data());
        envp.push_back(nullptr);
        execve(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    finished f;
    bool interrupted = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    int open_pipes = 2;
    while (open_pipes > 0 && std::chrono::steady_clock::now() < deadline) {
        if (poll(fds, 2, 100) <= 0)
            continue;
        for (int i = 0; i < 2; ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP)))
                continue;
            char buffer[4096];
            const auto n = read(fds[i].fd, buffer, sizeof buffer);
            if (n <= 0) {
                fds[i].fd = -1;
                --open_pipes;
                continue;
            }
            (i == 0 ? f.out : f.err).append(buffer, static_cast<std::size_t>(n));
        }
        if (interrupt && !interrupted && !f.out.empty()) {
            kill(child, SIGINT);
            interrupted = true;
        }
    }
    if (open_pipes > 0)
        kill(child, SIGKILL);
    close(out_pipe[0]);
    close(err_pipe[0]);
    int status = 0;
    waitpid(child, &status, 0);
    REQUIRE(open_pipes == 0); // it ended within the bound
    f.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return f;
}

} // namespace

TEST_CASE("chat streams an answer from each provider's endpoint, with the SDKs' variables", "[examples][chat]")
{
    llm::test::loopback_server server;
    const std::string base = server.url("");

    server.then(llm::test::replay(llm::test::load_recorded("openai/chat-stream-text-include-usage.sse")));
    auto openai = run_chat({"--model", "gpt-4o", "What's the weather?"},
                           {"OPENAI_API_KEY=sk-chat-test", "OPENAI_BASE_URL=" + base + "/v1"});
    CHECK(openai.status == 0);
    CHECK_THAT(openai.out, Catch::StartsWith("I'm unable to provide real-time weather updates."));
    CHECK_THAT(openai.err, Catch::Contains("[14 tokens in (0 cached), 30 out; finish: stop]"));
    CHECK_THAT(server.received().back().head, Catch::StartsWith("POST /v1/chat/completions"));
    CHECK_THAT(server.received().back().body, Catch::Contains("\"model\":\"gpt-4o\""));

    server.then(llm::test::replay(llm::test::load_recorded("anthropic/messages-stream-text.sse")));
    auto anthropic = run_chat({"--provider", "anthropic", "How are you?"},
                              {"ANTHROPIC_API_KEY=sk-ant-chat", "ANTHROPIC_BASE_URL=" + base});
    CHECK(anthropic.status == 0);
    CHECK(anthropic.out == "Hello! I'm doing well, thank you for asking. How are you doing today? Is there anything I "
                           "can help you with?");
    CHECK_THAT(anthropic.err, Catch::Contains("[12 tokens in (0 cached), 30 out; finish: stop]"));

    server.then(llm::test::replay(llm::test::load_recorded("gemini/stream-text.sse")));
    auto gemini =
        run_chat({"--provider", "gemini", "Capital of France?"}, {"GEMINI_API_KEY=g-chat", "GEMINI_BASE_URL=" + base});
    CHECK(gemini.status == 0);
    CHECK(gemini.out == "The capital of France is Paris.\n");
    CHECK_THAT(server.received().back().head,
               Catch::StartsWith("POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"));

    server.then(llm::test::replay(llm::test::load_recorded("ollama/chat-stream-text.sse")));
    auto ollama =
        run_chat({"--provider", "ollama", "Say hello!"}, {"OLLAMA_HOST=127.0.0.1:" + std::to_string(server.port())});
    CHECK(ollama.status == 0);
    CHECK_THAT(ollama.out, Catch::StartsWith("Hello! How are you today?"));
    CHECK_THAT(server.received().back().head, Catch::Contains("POST /v1/chat/completions"));
    CHECK_THAT(server.received().back().head, !Catch::Contains("Authorization"));
}

TEST_CASE("chat says what is missing and exits non-zero", "[examples][chat]")
{
    auto no_key = run_chat({"--provider", "anthropic", "hi"}, {});
    CHECK(no_key.status == 2);
    CHECK_THAT(no_key.err, Catch::Contains("ANTHROPIC_API_KEY is not set"));
    auto no_prompt = run_chat({}, {"OPENAI_API_KEY=x"});
    CHECK(no_prompt.status == 2);
    CHECK_THAT(no_prompt.err, Catch::Contains("no prompt given") && Catch::Contains("usage: chat"));
    auto unknown = run_chat({"--provider", "mistral", "hi"}, {});
    CHECK(unknown.status == 2);
    CHECK_THAT(unknown.err, Catch::Contains("unknown provider mistral"));

    llm::test::loopback_server server;
    server.then(llm::test::replay(llm::test::load_recorded("openai/error-401-invalid-api-key.json")));
    auto refused = run_chat({"hi"}, {"OPENAI_API_KEY=sk-wrong-key-123", "OPENAI_BASE_URL=" + server.url("/v1")});
    CHECK(refused.status == 1);
    CHECK_THAT(refused.err, Catch::Contains("unauthorized") && Catch::Contains("HTTP 401"));
    CHECK_THAT(refused.err, !Catch::Contains("sk-wrong-key-123"));
}

TEST_CASE("Ctrl-C cancels the upstream request at once", "[examples][chat]")
{
    llm::test::loopback_server server;
    server.then({llm::test::server_action::send{"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                                                "Transfer-Encoding: chunked\r\n\r\n" +
                                                llm::test::chunk_of("data: {\"choices\":[{\"index\":0,\"delta\":"
                                                                    "{\"content\":\"Once upon\"}}]}\n\n")},
                 llm::test::server_action::stall{}});
    auto stopped =
        run_chat({"Tell me a long story"}, {"OPENAI_API_KEY=x", "OPENAI_BASE_URL=" + server.url("/v1")}, true);
    CHECK(stopped.status == 130);
    CHECK(stopped.out == "Once upon");
    CHECK(server.wait_for_client_closes(1, std::chrono::seconds(2)));
}
