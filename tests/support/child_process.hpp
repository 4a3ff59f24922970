// A function run in a forked child process, for tests that need a process to die mid-work
// (kill -9) or several processes to share one store. The child tells the parent numbers through
// a pipe, and never returns into the test framework: it ends with _exit, so the parent's
// objects (a redis_server fixture, temporary directories) are not destroyed twice.
//
// Fork only while the test process has no other threads: a child inherits one thread and any
// lock another thread held at that moment.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <thread>

namespace llm::test {

class child_process {
public:
    // Runs body(tell) in a child, where tell(n) sends n to the parent; body's return value is
    // the child's exit status, and an exception in it is status 100.
    template <class F>
    explicit child_process(F body)
    {
        int fds[2];
        if (::pipe(fds) != 0)
            throw std::runtime_error("cannot create a pipe");
        pid_ = ::fork();
        if (pid_ < 0)
            throw std::runtime_error("cannot fork");
        if (pid_ == 0) {
            ::close(fds[0]);
            const int out = fds[1];
            int status = 100;
            try {
                status = body([out](std::uint64_t n) {
                    // At most PIPE_BUF bytes: atomic, even with several children on one pipe.
                    if (::write(out, &n, sizeof n) != sizeof n)
                        ::_exit(101);
                });
            } catch (...) {
            }
            ::_exit(status);
        }
        ::close(fds[1]);
        from_child_ = fds[0];
    }

    ~child_process()
    {
        kill();
        ::close(from_child_);
    }

    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    // The next number the child sent; nothing once it has ended (and sent everything), or when
    // nothing came within `timeout`.
    std::optional<std::uint64_t> next(std::chrono::milliseconds timeout = std::chrono::seconds(10))
    {
        pollfd p{from_child_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
            return std::nullopt;
        std::uint64_t n = 0;
        std::size_t got = 0;
        while (got < sizeof n) {
            const auto r = ::read(from_child_, reinterpret_cast<char*>(&n) + got, sizeof n - got);
            if (r <= 0)
                return std::nullopt;
            got += static_cast<std::size_t>(r);
        }
        return n;
    }

    // Kills it with SIGKILL, as the OOM killer or `kill -9` would, and reaps it.
    void kill()
    {
        if (pid_ <= 0)
            return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

    // Its exit status, once it has ended on its own; it is killed, and this throws, after `timeout`.
    int wait(std::chrono::milliseconds timeout = std::chrono::seconds(30))
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        int status = 0;
        while (::waitpid(pid_, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > deadline) {
                kill();
                throw std::runtime_error("a child process did not end in time");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

private:
    pid_t pid_ = -1;
    int from_child_ = -1;
};

} // namespace llm::test
