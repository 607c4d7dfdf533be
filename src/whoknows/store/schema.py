"""The current relational schema (SQLAlchemy Core). Migrations bring any older database to this shape.

Every imported row records where it came from: ``source`` (the system, e.g. ``slack:T024BE7LD``),
``external_id`` (its id there) and ``import_id`` (the import run that last wrote it). ``(source, external_id)``
is unique per table, which is what makes re-imports idempotent.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# BigInteger ids on PostgreSQL; on SQLite an INTEGER PRIMARY KEY is the rowid (64-bit anyway).
Id = BigInteger().with_variant(Integer(), "sqlite")


def _provenance() -> list[Column[object]]:
    return [
        Column("source", String(200), nullable=False),
        Column("external_id", String(500), nullable=False),
        Column("import_id", Id, ForeignKey("imports.id", ondelete="SET NULL"), nullable=True),
    ]


schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

imports = Table(
    "imports",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(50), nullable=False),  # importer name: slack, stackexchange, email, demo ...
    Column("source", String(200), nullable=False),
    Column("location", Text, nullable=True),  # path or description of what was imported
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("status", String(20), nullable=False),  # running | done | failed | interrupted (store/import_runs.py)
    Column("stats", JSON, nullable=False, default=dict),
    Column("error", Text, nullable=True),
)

people = Table(
    "people",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_provenance(),
    Column("name", String(300), nullable=False),
    Column("department", String(200), nullable=True),
    Column("team", String(200), nullable=True),
    Column("role", String(200), nullable=True),
    Column("timezone", String(64), nullable=True),
    Column("opted_out", Boolean, nullable=False, default=False),
    Column("is_bot", Boolean, nullable=False, default=False),
    Column("meta", JSON, nullable=False, default=dict),
    UniqueConstraint("source", "external_id", name="uq_people_source_ext"),
)
Index("ix_people_department", people.c.department)

person_aliases = Table(
    "person_aliases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("person_id", Id, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("value", String(500), nullable=False),  # normalized form, see model.normalize_alias
    Column("source", String(200), nullable=False),
    # The source identity ("<source>#<external id>") whose record brought this alias, or "mapping:…"/"manual:…".
    Column("identity", String(800), nullable=False),
    Column("rule", String(300), nullable=False),  # why it belongs to this person: "new person", "same email …"
    Column("import_id", Id, ForeignKey("imports.id", ondelete="SET NULL"), nullable=True),
)
Index("ix_alias_person", person_aliases.c.person_id)
Index("ix_alias_kind_value", person_aliases.c.kind, person_aliases.c.value)
#: Alias kinds that identify one person (two people can share a name or a handle, not an e-mail address).
STRONG_ALIAS_KINDS = ("external", "email", "slack", "stackexchange")
Index(
    "uq_alias_strong",
    person_aliases.c.kind,
    person_aliases.c.value,
    unique=True,
    sqlite_where=person_aliases.c.kind.in_(STRONG_ALIAS_KINDS),
    postgresql_where=person_aliases.c.kind.in_(STRONG_ALIAS_KINDS),
)

#: Every merge of two people or of a source identity into a person, so that it can be explained and undone.
person_merges = Table(
    "person_merges",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("survivor_id", Id, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("identity", String(800), nullable=True),  # a source identity merged at import time
    Column("absorbed", JSON, nullable=True),  # snapshot of a person row merged away (manual / mapping merges)
    Column("moved", JSON, nullable=False, default=dict),  # ids moved: aliases, messages, memberships
    Column("rule", String(500), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("undone_at", DateTime(timezone=True), nullable=True),
)
Index("ix_merges_survivor", person_merges.c.survivor_id)

spaces = Table(
    "spaces",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_provenance(),
    Column("kind", String(30), nullable=False),
    Column("name", String(300), nullable=False),
    Column("visibility", String(20), nullable=False),
    Column("description", Text, nullable=True),
    Column("meta", JSON, nullable=False, default=dict),
    UniqueConstraint("source", "external_id", name="uq_spaces_source_ext"),
)

space_members = Table(
    "space_members",
    metadata,
    Column("space_id", Id, ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", Id, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    Column("import_id", Id, ForeignKey("imports.id", ondelete="SET NULL"), nullable=True),
)
Index("ix_space_members_person", space_members.c.person_id)
#: The permission rule reads every public space on each request (``readable_space_ids``): an index keeps that off
#: a scan of all the DM and private spaces.
ix_spaces_visibility = Index("ix_spaces_visibility", spaces.c.visibility)

threads = Table(
    "threads",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_provenance(),
    Column("space_id", Id, ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False),
    Column("title", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=True),
    Column("url", Text, nullable=True),
    Column("meta", JSON, nullable=False, default=dict),
    UniqueConstraint("source", "external_id", name="uq_threads_source_ext"),
)
Index("ix_threads_space", threads.c.space_id)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_provenance(),
    Column("thread_id", Id, ForeignKey("threads.id", ondelete="CASCADE"), nullable=False),
    Column("space_id", Id, ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False),
    Column("author_id", Id, ForeignKey("people.id", ondelete="SET NULL"), nullable=True),
    Column("author_ref", String(500), nullable=True),  # the author's external id in the source
    Column("reply_to_id", Id, ForeignKey("messages.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("edited_at", DateTime(timezone=True), nullable=True),
    Column("kind", String(20), nullable=False),
    Column("text", Text, nullable=False),
    Column("score", Integer, nullable=False, default=0),
    Column("reactions", JSON, nullable=False, default=dict),
    Column("accepted", Boolean, nullable=False, default=False),
    Column("url", Text, nullable=True),
    Column("meta", JSON, nullable=False, default=dict),
    UniqueConstraint("source", "external_id", name="uq_messages_source_ext"),
)
Index("ix_messages_thread", messages.c.thread_id, messages.c.created_at)
Index("ix_messages_author", messages.c.author_id)
Index("ix_messages_space_time", messages.c.space_id, messages.c.created_at)
#: Deleting a message sets ``reply_to_id`` of its replies to NULL: without this index every deleted message is a
#: full scan of the table (deleting 900 of 20,000 messages took 12 s; migration 0006).
ix_messages_reply_to = Index("ix_messages_reply_to", messages.c.reply_to_id)

#: Tables created by migration 0001, in creation order.
INITIAL_TABLES = [
    schema_migrations,
    imports,
    people,
    person_aliases,
    person_merges,
    spaces,
    space_members,
    threads,
    messages,
]

# -- derived: the corporate memory (migration 0002) -------------------------------------------------------------
# Rows derived from messages by whoknows.memory; rebuilt from the store at will. Erasing a message erases the
# pairs it is the question of and the solutions it provides (ON DELETE CASCADE).

qa_pairs = Table(
    "qa_pairs",
    metadata,
    # One pair per question message: the question's message id is the pair's id.
    Column("question_id", Id, ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True, autoincrement=False),
    Column("thread_id", Id, ForeignKey("threads.id", ondelete="CASCADE"), nullable=False),
    Column("space_id", Id, ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False),
    Column("asker_id", Id, ForeignKey("people.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("question_text", Text, nullable=False),
    Column("confidence", Float, nullable=False),  # that the message is a question
    Column("signals", JSON, nullable=False, default=dict),
    Column("solutions", Integer, nullable=False, default=0),  # number of qa_solutions rows written
    Column("best_confidence", Float, nullable=True),
    Column("extractor", String(100), nullable=False),  # extractor version and weights it used
    Column("extracted_at", DateTime(timezone=True), nullable=False),
)
Index("ix_qa_pairs_thread", qa_pairs.c.thread_id)
Index("ix_qa_pairs_space_time", qa_pairs.c.space_id, qa_pairs.c.created_at)
Index("ix_qa_pairs_asker", qa_pairs.c.asker_id)

qa_solutions = Table(
    "qa_solutions",
    metadata,
    Column("question_id", Id, ForeignKey("qa_pairs.question_id", ondelete="CASCADE"), primary_key=True),
    Column("message_id", Id, ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    Column("rank", Integer, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("solver_id", Id, ForeignKey("people.id", ondelete="SET NULL"), nullable=True),
    Column("snippet", Text, nullable=False),
    Column("signals", JSON, nullable=False, default=dict),
)
Index("ix_qa_solutions_message", qa_solutions.c.message_id)
Index("ix_qa_solutions_solver", qa_solutions.c.solver_id)

#: Tables created by migration 0002.
MEMORY_TABLES = [qa_pairs, qa_solutions]

# -- routing: questions routed to experts (migration 0003) ------------------------------------------------------
# Operational rows (not derived): pending routes, timers and the notification outbox live here so that a worker
# can be killed and restarted without losing or repeating work. Erasing a person erases the questions they asked,
# the assignments, preferences and notifications addressed to them (CASCADE); answers and ratings they gave keep
# their text as part of the asker's record but lose the person (SET NULL).

routed_questions = Table(
    "routed_questions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("asker_id", Id, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text, nullable=False),
    Column("draft", JSON, nullable=False, default=dict),  # memory's draft answer + citations at routing time
    Column("confidence", Float, nullable=False, default=0.0),
    Column("topic_terms", JSON, nullable=False, default=list),
    Column("status", String(20), nullable=False),  # open | answered | closed | expired
    Column("k", Integer, nullable=False, default=3),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ix_routed_questions_asker", routed_questions.c.asker_id)
Index("ix_routed_questions_status", routed_questions.c.status)

route_assignments = Table(
    "route_assignments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("question_id", Id, ForeignKey("routed_questions.id", ondelete="CASCADE"), nullable=False),
    Column("expert_id", Id, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    # pending (waiting for working hours) | notified | answered | declined | forwarded | expired | closed
    Column("state", String(20), nullable=False),
    Column("reason", JSON, nullable=False, default=list),  # why this expert, in words
    Column("score", Float, nullable=False, default=0.0),
    Column("attempt", Integer, nullable=False, default=1),  # escalation round
    Column("channel", String(20), nullable=False),
    Column("forwarded_by_id", Id, ForeignKey("people.id", ondelete="SET NULL"), nullable=True),
    Column("not_before", DateTime(timezone=True), nullable=True),
    Column("notified_at", DateTime(timezone=True), nullable=True),
    Column("due_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("question_id", "expert_id", name="uq_route_assignment"),
)
Index("ix_route_assignments_expert_state", route_assignments.c.expert_id, route_assignments.c.state)
Index("ix_route_assignments_state_due", route_assignments.c.state, route_assignments.c.due_at)

expert_prefs = Table(
    "expert_prefs",
    metadata,
    Column("person_id", Id, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, autoincrement=False),
    Column("channels", JSON, nullable=False, default=list),  # ["email"], ["slack", "email"] ...
    Column("digest", String(20), nullable=False, default="immediate"),  # immediate | daily
    Column("weekly_budget", Integer, nullable=True),  # None: the installation's default
    Column("ooo_until", DateTime(timezone=True), nullable=True),
    Column("work_start", Integer, nullable=False, default=9),  # local hour
    Column("work_end", Integer, nullable=False, default=18),
    Column("work_days", JSON, nullable=False, default=list),  # ISO weekdays, empty: Mon-Fri
    Column("hidden_topics", JSON, nullable=False, default=list),
    Column("routing_opt_out", Boolean, nullable=False, default=False),
    Column("email", String(500), nullable=True),
    Column("slack_user", String(100), nullable=True),
    Column("webhook_url", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

notification_outbox = Table(
    "notification_outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("person_id", Id, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("assignment_id", Id, ForeignKey("route_assignments.id", ondelete="CASCADE"), nullable=True),
    Column("channel", String(20), nullable=False),
    Column("kind", String(30), nullable=False),  # request | reminder | answer | digest
    Column("payload", JSON, nullable=False, default=dict),
    Column("status", String(20), nullable=False),  # pending | held (daily digest) | sending | sent | failed | dropped
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("claimed_until", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_outbox_status_next", notification_outbox.c.status, notification_outbox.c.next_attempt_at)

route_answers = Table(
    "route_answers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("question_id", Id, ForeignKey("routed_questions.id", ondelete="CASCADE"), nullable=False),
    Column("assignment_id", Id, ForeignKey("route_assignments.id", ondelete="SET NULL"), nullable=True),
    Column("expert_id", Id, ForeignKey("people.id", ondelete="SET NULL"), nullable=True),
    Column("text", Text, nullable=False),
    Column("channel", String(20), nullable=False),
    Column("message_id", Id, ForeignKey("messages.id", ondelete="SET NULL"), nullable=True),
    Column("accepted", Boolean, nullable=False, default=False),
    Column("rating", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_route_answers_question", route_answers.c.question_id)
ix_route_answers_message = Index("ix_route_answers_message", route_answers.c.message_id)  # SET NULL on delete

#: Outcomes for the expertise model (answered / accepted / declined); ``applied_at`` is set once refit used them.
route_outcomes = Table(
    "route_outcomes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("question_id", Id, ForeignKey("routed_questions.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", Id, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=True),
)
Index("ix_route_outcomes_applied", route_outcomes.c.applied_at)

#: Tables created by migration 0003.
ROUTING_TABLES = [
    routed_questions,
    route_assignments,
    expert_prefs,
    notification_outbox,
    route_answers,
    route_outcomes,
]

# -- accounts and API access (migration 0004) -------------------------------------------------------------------
# Who may log in to the server and with which role. An account belongs to a person (erasing the person erases the
# account and its tokens). Passwords are stored as argon2id hashes; tokens (API tokens and browser sessions) only
# as the SHA-256 of their value, so a copy of the database cannot be used to log in.

accounts = Table(
    "accounts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("person_id", Id, ForeignKey("people.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("password_hash", String(300), nullable=True),  # None: no local password (SSO only)
    Column("role", String(20), nullable=False),  # member | analyst | admin
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),  # api | session
    Column("name", String(200), nullable=False),
    Column("account_id", Id, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(20), nullable=False),  # scope: never more than the account's role
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)
Index("ix_api_tokens_account", api_tokens.c.account_id)

#: Tables created by migration 0004.
ACCOUNT_TABLES = [accounts, api_tokens]

# -- login throttling (migration 0008) ----------------------------------------------------------------------------
# One row per login attempt that has not succeeded, under each key it counts against: ``account:<id>``,
# ``login:<digest of an identifier that names no account>``, ``addr:<client address>``. Shared by every server
# process; rows older than the window are pruned (see whoknows.store.login_failures).

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
)
Index("ix_login_failures_key", login_failures.c.key, login_failures.c.attempted_at)
Index("ix_login_failures_attempted", login_failures.c.attempted_at)

#: Tables created by migration 0008.
LOGIN_TABLES = [login_failures]

# -- the organisation's directory (migration 0009) ---------------------------------------------------------------
# People a source lists as members of the organisation (a Slack workspace's users.json, the demo org's staff, a Q&A
# site's Users.xml, a mapping file), as opposed to people only seen in a conversation (a mail correspondent, a
# ticket's requester). Anyone signed in may look up a listed person; anyone else only by a viewer who can read a
# space they appear in (see whoknows.store.directory). ``identity`` is the source record that listed them, so an
# unmerge takes the listing along with that record.

directory = Table(
    "directory",
    metadata,
    Column("person_id", Id, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("identity", String(800), nullable=False),  # "<source>#<external id>" of the listing record
    UniqueConstraint("person_id", "identity", name="uq_directory_person_identity"),
)
Index("ix_directory_identity", directory.c.identity)

#: Tables created by migration 0009.
DIRECTORY_TABLES = [directory]

# -- the database's identity (migration 0007) ----------------------------------------------------------------------
# One row: a random id made when the database was created. Everything derived from the database (memory index,
# expertise model, derive state, uploads) lives in a folder named by it under the data dir and records it, so an
# artefact of another database (a second --db in the same data dir, a copied folder) is never taken for this one's.

database_identity = Table(
    "database_identity",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1: one row
    Column("database_id", String(32), nullable=False),  # uuid4 hex
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: Tables created by migration 0007.
IDENTITY_TABLES = [database_identity]
