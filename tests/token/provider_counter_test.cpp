// token::provider_counter against a loopback server that answers as Anthropic's count_tokens and
// Gemini's countTokens do (their documented answers: no recording of either endpoint exists in
// the shared fixtures), and inside a budget and a rate limit, which await it before reserving.
#include <llm/budget/tokens.hpp>
#include <llm/provider/anthropic.hpp>
#include <llm/provider/gemini.hpp>
#include <llm/rate_limit/token_bucket.hpp>
#include <llm/store/memory.hpp>
#include <llm/token/provider_counter.hpp>
#include <llm/transport/https.hpp>

#include <support/https_client.hpp>
#include <support/loopback_server.hpp>
#include <support/run.hpp>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

using namespace llm;

namespace {

request question()
{
    request r{.model = "claude-sonnet-4-6",
              .messages = {llm::system("Be brief."), user("What is the weather in Paris?")},
              .max_tokens = 300,
              .temperature = 0.5};
    r.tools.push_back(
        {"get_weather", "The weather in a city", R"({"type":"object","properties":{"city":{"type":"string"}}})"});
    r.identity.user = "alice";
    return r;
}

provider::anthropic anthropic_at(const test::loopback_server& server)
{
    provider::anthropic_config c;
    c.api_key = "anthropic-test-secret";
    c.base_url = server.url("/");
    return provider::anthropic(c);
}

provider::gemini gemini_at(const test::loopback_server& server)
{
    provider::gemini_config c;
    c.api_key = "gemini-test-secret";
    c.base_url = server.url("/");
    return provider::gemini(c);
}

} // namespace

TEST_CASE("Anthropic's count_tokens gives the count, asked with the prompt only", "[token][provider]")
{
    asio::io_context io;
    test::loopback_server server;
    transport::https http(io.get_executor(), test::quick_https_options());
    token::provider_counter counter(anthropic_at(server), http);
    server.then(test::answer(200, R"({"input_tokens":2095})", "Content-Type: application/json\r\n"));
    auto n = test::run(io, counter.count(question()));
    REQUIRE(n);
    CHECK(*n == 2095);

    const auto sent = server.received();
    REQUIRE(sent.size() == 1);
    CHECK_THAT(sent[0].head, Catch::StartsWith("POST /v1/messages/count_tokens HTTP/1.1"));
    CHECK_THAT(sent[0].head, Catch::Contains("x-api-key: anthropic-test-secret"));
    CHECK_THAT(sent[0].head, Catch::Contains("anthropic-version: "));
    const auto body = boost::json::parse(sent[0].body).as_object();
    CHECK(body.at("model") == "claude-sonnet-4-6");
    CHECK(body.at("system").as_array().size() == 1);
    CHECK(body.at("messages").as_array().size() == 1);
    CHECK(body.at("tools").as_array().at(0).at("name") == "get_weather");
    // What shapes only the answer is not sent: the endpoint refuses unknown fields.
    CHECK_FALSE(body.contains("max_tokens"));
    CHECK_FALSE(body.contains("temperature"));
    CHECK_FALSE(body.contains("stream"));
}

TEST_CASE("Gemini's countTokens gives the count, asked with the whole generateContent request", "[token][provider]")
{
    asio::io_context io;
    test::loopback_server server;
    transport::https http(io.get_executor(), test::quick_https_options());
    token::provider_counter counter(gemini_at(server), http);
    server.then(test::answer(200,
                             R"({"totalTokens": 31, "promptTokensDetails": [{"modality": "TEXT","tokenCount": 31}]})",
                             "Content-Type: application/json\r\n"));
    auto r = question();
    r.model = "gemini-2.5-flash";
    auto n = test::run(io, counter.count(r));
    REQUIRE(n);
    CHECK(*n == 31);

    const auto sent = server.received();
    REQUIRE(sent.size() == 1);
    CHECK_THAT(sent[0].head, Catch::StartsWith("POST /v1beta/models/gemini-2.5-flash:countTokens HTTP/1.1"));
    CHECK_THAT(sent[0].head, Catch::Contains("x-goog-api-key: gemini-test-secret"));
    const auto body = boost::json::parse(sent[0].body).as_object();
    const auto& inner = body.at("generateContentRequest").as_object();
    CHECK(inner.at("model") == "models/gemini-2.5-flash");
    CHECK(inner.contains("systemInstruction"));
    CHECK(inner.at("contents").as_array().size() == 1);
    CHECK(inner.contains("tools"));
}

TEST_CASE("when the endpoint fails, the count falls back to the estimator and says why", "[token][provider]")
{
    asio::io_context io;
    test::loopback_server server;
    transport::https http(io.get_executor(), test::quick_https_options());
    std::vector<error> errors;
    token::provider_counter counter(anthropic_at(server), http, token::upper_bound{},
                                    [&](const error& e) { errors.push_back(e); });
    const auto fallback = token::upper_bound::count(question());

    server.then(test::answer(
        429,
        R"({"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit"}})",
        "Content-Type: application/json\r\nretry-after: 3\r\n"));
    auto limited = test::run(io, counter.count(question()));
    REQUIRE(limited);
    CHECK(*limited == fallback);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] == errc::rate_limited);

    server.then(test::answer(200, R"({"tokens":12})", "Content-Type: application/json\r\n"));
    auto exact = test::run(io, counter.exact(question()));
    REQUIRE(exact);
    REQUIRE_FALSE(*exact);
    CHECK(exact->error() == errc::malformed_response);
    CHECK_THAT(exact->error().message, Catch::Contains("no input_tokens"));

    server.then(test::answer(200, "not json", "Content-Type: application/json\r\n"));
    auto garbage = test::run(io, counter.count(question()));
    REQUIRE(garbage);
    CHECK(*garbage == fallback);
    CHECK(errors.size() == 2);
    CHECK(errors[1] == errc::malformed_response);

    // A request the provider cannot be asked about never reaches the network.
    auto no_model = question();
    no_model.model.clear();
    auto refused = test::run(io, counter.exact(no_model));
    REQUIRE(refused);
    REQUIRE_FALSE(*refused);
    CHECK(refused->error() == errc::bad_request);
    CHECK(server.received().size() == 3);
    for (const auto& e : errors)
        CHECK(e.message.find("anthropic-test-secret") == std::string::npos);
}

TEST_CASE("a budget and a rate limit await the provider's count before reserving", "[token][provider]")
{
    asio::io_context io;
    test::loopback_server server;
    transport::https http(io.get_executor(), test::quick_https_options());
    token::provider_counter counter(anthropic_at(server), http);
    store::memory s;
    budget::tokens<store::memory, decltype(counter)> budget(s, {.per_user = 10'000}, {}, counter);
    rate_limit::token_bucket<store::memory, decltype(counter)> limiter(
        s, {{.scope = rate_limit::scope::user, .tokens = rate_limit::limit{1000, std::chrono::minutes{1}}}}, {},
        counter);
    const auto now = time_point{std::chrono::sys_days{std::chrono::year{2026} / 11 / 24}};

    server.then(test::answer(200, R"({"input_tokens":650})", "Content-Type: application/json\r\n"));
    auto r = question();
    auto held = test::run(io, budget.reserve(r, now));
    REQUIRE(held);
    REQUIRE(*held);
    CHECK(held->value().input_tokens == 650);
    CHECK(held->value().held == 650 + 300);

    // 650 counted + 300 of answer: within the 1000-token bucket once, not twice.
    server.then(test::answer(200, R"({"input_tokens":650})", "Content-Type: application/json\r\n"));
    auto first = test::run(io, limiter.acquire(r, now));
    REQUIRE(first);
    CHECK(*first);
    server.then(test::answer(200, R"({"input_tokens":650})", "Content-Type: application/json\r\n"));
    auto second = test::run(io, limiter.acquire(r, now));
    REQUIRE(second);
    REQUIRE_FALSE(*second);
    CHECK(second->error() == errc::rate_limited);
}
