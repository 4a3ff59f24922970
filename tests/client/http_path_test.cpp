// The pipeline over an HTTP transport: the provider encodes each attempt and decodes the
// answer, success or error, and retries see the decoded error.
#include <llm/client.hpp>

#include <support/printers.hpp>
#include <support/recording_policies.hpp>
#include <support/run.hpp>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <catch2/catch.hpp>

#include <deque>

using namespace llm;
using namespace std::chrono_literals;

namespace {

// Answers scripted HTTP responses and keeps the requests it was sent.
struct scripted_http {
    using executor_type = asio::io_context::executor_type;
    struct state {
        std::deque<http::response> answers;
        std::vector<http::request> sent;
    };
    asio::io_context* io;
    std::shared_ptr<state> st = std::make_shared<state>();

    executor_type get_executor() const { return io->get_executor(); }

    template <class Handler>
    void async_send(const http::request& r, Handler&& h)
    {
        st->sent.push_back(r);
        result<http::response> answer = error{errc::provider_unavailable, "connection refused"};
        if (!st->answers.empty()) {
            answer = std::move(st->answers.front());
            st->answers.pop_front();
        }
        asio::post(*io,
                   [h = std::forward<Handler>(h), a = std::move(answer)]() mutable { std::move(h)(std::move(a)); });
    }
};
static_assert(http_transport<scripted_http> && !model_transport<scripted_http>);

// A toy wire format: the body is "model|last message", the answer's body is the text.
struct toy_provider {
    result<http::request> encode(const request& r) const
    {
        http::request out{.url = "http://127.0.0.1:9/v1/toy", .body = r.model + "|" + r.messages.back().text};
        out.headers.add("Content-Type", "text/plain");
        return out;
    }
    result<response> decode(const http::response& answer) const
    {
        if (answer.status == 429) {
            error e{errc::rate_limited, answer.body};
            e.http_status = 429;
            if (auto* after = answer.headers.find("retry-after"))
                e.retry_after = std::chrono::seconds(std::stoi(*after));
            return e;
        }
        if (answer.status != 200)
            return fail(errc::malformed_response, "unexpected status");
        return response{.text = answer.body, .usage = {3, 1, 0}};
    }
};
static_assert(provider_policy<toy_provider>);

http::response ok(std::string body)
{
    return {.status = 200, .body = std::move(body)};
}

} // namespace

TEST_CASE("over an HTTP transport the provider encodes each attempt and decodes the answer", "[client][http]")
{
    asio::io_context io;
    scripted_http wire{&io};
    wire.st->answers.push_back(ok("hello over http"));
    client<scripted_http, toy_provider> ai{wire};

    auto r = test::run(io, ai.complete(request{.model = "toy-1", .messages = {user("hi")}}));

    REQUIRE(r);
    REQUIRE(*r);
    CHECK(r->value().text == "hello over http");
    REQUIRE(wire.st->sent.size() == 1);
    CHECK(wire.st->sent[0].body == "toy-1|hi");
    CHECK(*wire.st->sent[0].headers.find("content-type") == "text/plain"); // case-insensitive
}

TEST_CASE("a provider-decoded error reaches the retry policy with its retry_after", "[client][http][retry]")
{
    asio::io_context io;
    scripted_http wire{&io};
    http::response limited{.status = 429, .body = "slow down"};
    limited.headers.add("Retry-After", "2");
    wire.st->answers.push_back(limited);
    wire.st->answers.push_back(ok("after waiting"));

    struct honour_retry_after {
        std::shared_ptr<std::vector<std::chrono::milliseconds>> seen =
            std::make_shared<std::vector<std::chrono::milliseconds>>();
        std::optional<std::chrono::milliseconds> next_delay(const retry::attempt& a, const error& e)
        {
            seen->push_back(e.retry_after.value_or(0ms));
            return a.number < 2 ? std::optional(0ms) : std::nullopt;
        }
    };
    client<scripted_http, toy_provider, honour_retry_after> ai{wire};

    auto r = test::run(io, ai.complete(request{.messages = {user("hi")}}));

    REQUIRE(r);
    REQUIRE(*r);
    CHECK(r->value().text == "after waiting");
    CHECK(*ai.retry().seen == std::vector<std::chrono::milliseconds>{2000ms});
}

TEST_CASE("a transport failure on the HTTP path is returned as the call's error", "[client][http]")
{
    asio::io_context io;
    scripted_http wire{&io}; // no answers: connection refused
    client<scripted_http, toy_provider, test::recording_observer> ai{
        wire, test::recording_observer{std::make_shared<test::journal>()}};

    auto r = test::run(io, ai.complete(request{.messages = {user("hi")}}));

    REQUIRE(r);
    REQUIRE_FALSE(*r);
    CHECK(r->error() == errc::provider_unavailable);
    CHECK(r->error().message == "connection refused");
}
