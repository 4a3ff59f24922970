// store::sqlite: the embedded, durable default. One file in WAL mode: every batch is one
// transaction, so a committed change survives a restart and a kill -9, and several processes
// may share the file (SQLite serialises their writes). Link llm::sqlite to use it.
#pragma once

#include <llm/store/store.hpp>

#include <sqlite3.h>

#include <bit>      // bit_cast: cells as portable bytes
#include <memory>   // std::shared_ptr
#include <mutex>    // one connection, one writer at a time
#include <optional> // get
#include <string>   // keys, values, messages

namespace llm::store {

struct sqlite_options {
    // How long a write waits for another process's transaction before it fails.
    std::chrono::milliseconds busy_timeout{5000};
    // Also survive a power loss or an OS crash, at the price of an fsync per batch; without it
    // a commit survives the process dying (kill -9), which is what WAL guarantees on its own.
    bool sync_every_commit = false;
};

class sqlite {
public:
    // Opens (creating if needed) the database file at `path`.
    static result<sqlite> open(const std::string& path, const sqlite_options& options = {})
    {
        auto s = std::make_shared<state>();
        sqlite3* db = nullptr;
        const int rc = sqlite3_open_v2(path.c_str(), &db,
                                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
        s->db = db; // closed by ~state even when opening failed
        if (rc != SQLITE_OK)
            return fail(errc::invalid_configuration, "store::sqlite: cannot open " + path + ": " +
                                                         (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)) +
                                                         " (check that the folder exists and is writable)");
        sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
        const std::string setup = std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=") +
                                  (options.sync_every_commit ? "FULL" : "NORMAL") +
                                  "; CREATE TABLE IF NOT EXISTS llm_store (key TEXT PRIMARY KEY, numbers BLOB, text "
                                  "BLOB, expires INTEGER NOT NULL) WITHOUT ROWID;"
                                  "CREATE INDEX IF NOT EXISTS llm_store_expires ON llm_store(expires);";
        if (auto e = s->exec(setup.c_str()))
            return fail(errc::invalid_configuration, "store::sqlite: cannot set up " + path + ": " + *e);
        if (auto e = s->prepare())
            return fail(errc::invalid_configuration, "store::sqlite: cannot prepare statements on " + path + ": " + *e);
        return sqlite(std::move(s));
    }

    template <store_operation Op>
    result<outcomes<typename Op::outcome>> apply(std::span<const step<Op>> batch, time_point now) const
    {
        std::lock_guard lock(state_->mutex);
        return state_->transaction([&]() -> result<outcomes<typename Op::outcome>> {
            outcomes<typename Op::outcome> done;
            cell c;
            for (const auto& s : batch) {
                BOOST_OUTCOME_TRY(auto row, state_->read(s.key, now));
                c = std::move(row.numbers);
                auto outcome = s.op.apply(c, now);
                if (outcome.keep > std::chrono::milliseconds::zero() && !c.empty()) {
                    BOOST_OUTCOME_TRY(state_->write(s.key, &c, row.text, now + outcome.keep));
                } else if (row.found) {
                    BOOST_OUTCOME_TRY(state_->erase(s.key));
                }
                done.push_back(std::move(outcome));
            }
            BOOST_OUTCOME_TRY(state_->sweep_now_and_then(now));
            return done;
        });
    }

    result<std::optional<std::string>> get(std::string_view key, time_point now) const
    {
        std::lock_guard lock(state_->mutex);
        BOOST_OUTCOME_TRY(auto row, state_->read(key, now));
        if (!row.found || !row.has_text)
            return std::optional<std::string>{};
        return std::optional<std::string>{std::move(row.text)};
    }

    result<void> put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl, time_point now) const
    {
        std::lock_guard lock(state_->mutex);
        return state_->transaction([&]() -> result<void> {
            if (ttl <= std::chrono::milliseconds::zero())
                return state_->erase(key);
            return state_->write(key, nullptr, value, now + ttl);
        });
    }

private:
    struct stored {
        bool found = false;
        bool has_text = false;
        cell numbers;
        std::string text;
    };

    struct state {
        sqlite3* db = nullptr;
        std::mutex mutex;
        sqlite3_stmt* select = nullptr;
        sqlite3_stmt* upsert = nullptr;
        sqlite3_stmt* remove = nullptr;
        sqlite3_stmt* sweep = nullptr;
        unsigned batches = 0;

        ~state()
        {
            for (auto* st : {select, upsert, remove, sweep})
                sqlite3_finalize(st);
            sqlite3_close(db);
        }

        std::optional<std::string> exec(const char* sql)
        {
            char* message = nullptr;
            if (sqlite3_exec(db, sql, nullptr, nullptr, &message) == SQLITE_OK)
                return std::nullopt;
            std::string out = message ? message : sqlite3_errmsg(db);
            sqlite3_free(message);
            return out;
        }

        std::optional<std::string> prepare()
        {
            const std::pair<sqlite3_stmt**, const char*> statements[] = {
                {&select, "SELECT numbers, text, expires FROM llm_store WHERE key = ?1"},
                {&upsert, "INSERT INTO llm_store (key, numbers, text, expires) VALUES (?1, ?2, ?3, ?4) "
                          "ON CONFLICT(key) DO UPDATE SET numbers = ?2, text = ?3, expires = ?4"},
                {&remove, "DELETE FROM llm_store WHERE key = ?1"},
                {&sweep, "DELETE FROM llm_store WHERE expires <= ?1"},
            };
            for (auto [target, sql] : statements)
                if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, target, nullptr) != SQLITE_OK)
                    return sqlite3_errmsg(db);
            return std::nullopt;
        }

        error failure(const char* doing) const
        {
            return error{errc::store_unavailable,
                         std::string("store::sqlite: ") + doing + ": " + sqlite3_errmsg(db) +
                             (sqlite3_errcode(db) == SQLITE_BUSY ? " (another process holds the file longer than "
                                                                   "busy_timeout)"
                                                                 : "")};
        }

        // Runs body inside BEGIN IMMEDIATE ... COMMIT, rolled back when it fails.
        template <class Body>
        auto transaction(Body body) -> decltype(body())
        {
            if (exec("BEGIN IMMEDIATE"))
                return failure("cannot begin a transaction");
            auto done = body();
            if (done && !exec("COMMIT"))
                return done;
            if (done) {
                auto e = failure("cannot commit");
                exec("ROLLBACK");
                return e;
            }
            exec("ROLLBACK");
            return done;
        }

        result<stored> read(std::string_view key, time_point now)
        {
            sqlite3_reset(select);
            sqlite3_bind_text(select, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
            const int rc = sqlite3_step(select);
            stored r;
            if (rc == SQLITE_ROW) {
                if (sqlite3_column_int64(select, 2) > static_cast<std::int64_t>(milliseconds_of(now))) {
                    r.found = true;
                    decode_cell(sqlite3_column_blob(select, 0), sqlite3_column_bytes(select, 0), r.numbers);
                    if (sqlite3_column_type(select, 1) != SQLITE_NULL) {
                        r.has_text = true;
                        const auto* text = static_cast<const char*>(sqlite3_column_blob(select, 1));
                        r.text.assign(text ? text : "", static_cast<std::size_t>(sqlite3_column_bytes(select, 1)));
                    }
                }
            } else if (rc != SQLITE_DONE) {
                sqlite3_reset(select);
                return failure("cannot read");
            }
            sqlite3_reset(select);
            return r;
        }

        // Numbers, text, or both; a null pointer leaves that column empty.
        result<void> write(std::string_view key, const cell* numbers, std::string_view text, time_point expires)
        {
            std::string bytes;
            if (numbers)
                bytes = encode_cell(*numbers);
            sqlite3_reset(upsert);
            sqlite3_bind_text(upsert, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
            if (numbers)
                sqlite3_bind_blob(upsert, 2, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
            else
                sqlite3_bind_null(upsert, 2);
            if (numbers && text.empty())
                sqlite3_bind_null(upsert, 3);
            else
                sqlite3_bind_blob(upsert, 3, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
            sqlite3_bind_int64(upsert, 4, static_cast<std::int64_t>(milliseconds_of(expires)));
            const int rc = sqlite3_step(upsert);
            sqlite3_reset(upsert);
            if (rc != SQLITE_DONE)
                return failure("cannot write");
            return success();
        }

        result<void> erase(std::string_view key)
        {
            sqlite3_reset(remove);
            sqlite3_bind_text(remove, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
            const int rc = sqlite3_step(remove);
            sqlite3_reset(remove);
            if (rc != SQLITE_DONE)
                return failure("cannot delete");
            return success();
        }

        // Expired rows are invisible at once and deleted in bulk now and then, through the index
        // on expires, so the file does not grow with every user ever seen.
        result<void> sweep_now_and_then(time_point now)
        {
            if (++batches % 1024 != 0)
                return success();
            sqlite3_reset(sweep);
            sqlite3_bind_int64(sweep, 1, static_cast<std::int64_t>(milliseconds_of(now)));
            const int rc = sqlite3_step(sweep);
            sqlite3_reset(sweep);
            if (rc != SQLITE_DONE)
                return failure("cannot delete expired rows");
            return success();
        }
    };

    // Little-endian IEEE doubles, so a file moves between machines.
    static std::string encode_cell(const cell& c)
    {
        std::string bytes(c.size() * 8, '\0');
        for (std::size_t i = 0; i < c.size(); ++i) {
            const auto bits = std::bit_cast<std::uint64_t>(c[i]);
            for (std::size_t b = 0; b < 8; ++b)
                bytes[i * 8 + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
        }
        return bytes;
    }

    static void decode_cell(const void* data, int size, cell& out)
    {
        out.clear();
        if (!data || size <= 0)
            return;
        const auto* bytes = static_cast<const unsigned char*>(data);
        for (std::size_t i = 0; i + 8 <= static_cast<std::size_t>(size); i += 8) {
            std::uint64_t bits = 0;
            for (std::size_t b = 0; b < 8; ++b)
                bits |= std::uint64_t{bytes[i + b]} << (8 * b);
            out.push_back(std::bit_cast<double>(bits));
        }
    }

    explicit sqlite(std::shared_ptr<state> s) : state_(std::move(s)) {}

    std::shared_ptr<state> state_;
};

static_assert(store_backend<sqlite>);

} // namespace llm::store
