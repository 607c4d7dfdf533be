"""Stack Exchange data dumps: a site's folder (Posts.xml, Users.xml, Comments.xml ...) or a .zip of it.

Mapping: the site is one public ``qa_site`` space; every question is a thread (tags, duplicate and related
links in ``thread.meta``); the question post, its answers and the comments on either are messages. People come
from Users.xml with an alias ``stackexchange: <site>:<user id>`` and, when the dump has it, an external alias
``stackexchange-account:<AccountId>`` for the network account, so profiles on several sites merge. A partial
export without Users.xml still names its authors: each ``OwnerUserId`` (``UserId`` on comments) becomes a person
the first time it is seen, named by the post's ``OwnerDisplayName`` when given (else ``user <id>``), not listed in
the directory (the dump has no user list). Without an ``OwnerUserId`` a post has no author either way.

Files are streamed (:func:`read_xml_records` below, also used by the Slack chats importer), so memory grows
with the number of posts (a few small integers each, to attach comments to threads), never with the size of
the texts. Posts.xml is read once: answers that come before their question (possible after merges) wait.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from whoknows.importers.base import ImportError_, SourceReader
from whoknows.importers.export_archive import ExportArchive
from whoknows.importers.export_folder import check_inside
from whoknows.importers.html_text import html_to_text
from whoknows.importers.xml_records import (
    MAX_TEXT,
    TimestampError,
    XmlRecord,
    estimate_count,
    parse_timestamp,
    read_xml_records,
)
from whoknows.model import Alias, AliasKind, Batch, Message, MessageKind, Person, Space, SpaceKind, Thread

FILES = ("Posts.xml", "Users.xml", "Comments.xml", "PostLinks.xml", "Votes.xml")
QUESTION, ANSWER = "1", "2"
LINK_RELATED, LINK_DUPLICATE = "1", "3"
VOTE_FAVORITE, VOTE_BOUNTY_START, VOTE_BOUNTY_CLOSE = "5", "8", "9"
_TAGS = re.compile(r"<([^<>]+)>")
_INT = re.compile(r"-?[0-9]{1,18}")


class StackExchangeReader(SourceReader):
    kind = "stackexchange"
    description = "Stack Exchange data dump: a site folder (Posts.xml, Users.xml, Comments.xml ...) or its .zip"

    def __init__(self, path: Path, *, space_name: str | None = None, batch_size: int = 5_000):
        super().__init__(path, space_name=space_name, batch_size=batch_size)
        self.site = _site_host(path)
        self._validated = False
        #: Without Users.xml, people made from the posts' owners wait here for the batch of their first post.
        self._from_posts: list[Person] | None = None

    @property
    def source(self) -> str:
        return f"stackexchange:{self.site}"

    # -- input files --------------------------------------------------------------------------------------
    def _member(self, name: str) -> str | None:
        """Where ``name`` lives: a path on disk or a zip member (case-insensitive); None if absent."""
        if self.path.is_dir():
            found = [p for p in self.path.iterdir() if p.name.lower() == name.lower()]
            if found and found[0].is_symlink():
                check_inside(self.path.resolve(), found[0])  # refuses a link that leaves the dump folder
            return str(found[0]) if found else None
        members = [m for m in self._zip_names() if m.rsplit("/", 1)[-1].lower() == name.lower()]
        return min(members, key=lambda m: m.count("/")) if members else None

    def _zip_names(self) -> list[str]:
        try:
            with zipfile.ZipFile(self.path) as zf:
                return zf.namelist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise ImportError_(f"{self.path}: not a Stack Exchange dump folder or readable .zip ({exc})") from None

    @contextmanager
    def _open(self, member: str) -> Iterator[IO[bytes]]:
        if self.path.is_dir():
            with open(member, "rb") as fh:
                yield fh
        else:
            with zipfile.ZipFile(self.path) as zf, zf.open(member) as fh:
                yield fh

    def _label(self, member: str) -> str:
        return member if self.path.is_dir() else f"{self.path}!{member}"

    def _records(self, name: str, root: str, *, head_only: bool = False) -> Iterator[XmlRecord]:
        member = self._member(name)
        if member is None:
            return
        label = self._label(member)
        try:
            with self._open(member) as fh:
                for record in read_xml_records(fh, label, self.warn, root=root):
                    yield record
                    if head_only:
                        return
        except (
            OSError,
            zipfile.BadZipFile,
            EOFError,
            zlib.error,
            NotImplementedError,
            RuntimeError,
            ValueError,
        ) as exc:
            # a corrupt deflate stream, an unsupported compression method, an encrypted member, a bad member name
            self.warn(label, None, f"cannot read the rest of the file ({exc}); stopped reading it")

    # -- SourceReader -------------------------------------------------------------------------------------
    def validate(self) -> None:
        if not self.path.exists():
            raise ImportError_(f"{self.path}: no such file or folder")
        if not self.path.is_dir() and not zipfile.is_zipfile(self.path):
            raise ImportError_(f"{self.path}: expected a Stack Exchange dump folder or a .zip of one")
        if not self.path.is_dir():
            # Zip-bomb and path checks on the declared sizes (zipfile itself never inflates a member beyond its
            # declared size, so members can then be streamed). Dumps are large: allow up to 256 GiB in all.
            ExportArchive(self.path, self.warn, limits={"max_total_bytes": 256 * 2**30}).close()
        if self._member("Posts.xml") is None:
            raise ImportError_(f"{self.path}: no Posts.xml; this is not a Stack Exchange data dump")
        for name in FILES:  # a file that is not XML at all, or is cut off before its first row, is fatal
            for _ in self._records(name, name.removesuffix(".xml").lower(), head_only=True):
                pass
        self._validated = True

    def total_hint(self) -> int | None:
        total = 0
        try:
            for name in ("Posts.xml", "Comments.xml"):
                member = self._member(name)
                if member is not None:
                    size = Path(member).stat().st_size if self.path.is_dir() else None
                    with self._open(member) as fh:
                        total += estimate_count(fh, b"<row ", size)
        except (OSError, zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError, ValueError):
            return None  # only a hint for the progress bar: reading the file reports the problem with its place
        return total

    def batches(self) -> Iterator[Batch]:
        if not self._validated:
            self.validate()
        links = self._read_links()
        votes = self._read_votes()
        batch = Batch(
            spaces=[
                Space(
                    source=self.source,
                    external_id=self.site,
                    kind=SpaceKind.QA_SITE,
                    name=self.space_name or self.site,
                    description=f"Stack Exchange site {self.site}",
                )
            ]
        )
        users: set[str] = set()
        self._from_posts = [] if self._member("Users.xml") is None else None
        for person in self._people():
            users.add(person.external_id)
            batch.people.append(person)
            if len(batch) >= self.batch_size:
                yield batch
                batch = Batch()
        posts = _PostIndex()
        for thread, message in self._posts(users, links, votes, posts):
            self._take_authors(batch)
            if thread is not None:
                batch.threads.append(thread)
            batch.messages.append(message)
            if len(batch) >= self.batch_size:
                yield batch
                batch = Batch()
        for message in self._comments(users, posts):
            self._take_authors(batch)
            batch.messages.append(message)
            if len(batch) >= self.batch_size:
                yield batch
                batch = Batch()
        if len(batch):
            yield batch

    # -- side tables --------------------------------------------------------------------------------------
    def _read_links(self) -> dict[str, dict[str, list[str]]]:
        """Post id -> {"duplicate_of": [...], "related": [...]}; related links are recorded on both ends."""
        links: dict[str, dict[str, list[str]]] = {}
        for r in self._records("PostLinks.xml", "postlinks"):
            post, other, kind = r.attrs.get("PostId"), r.attrs.get("RelatedPostId"), r.attrs.get("LinkTypeId")
            if not post or not other:
                self.warn(r.file, f"line {r.line}", "post link without PostId/RelatedPostId; skipped")
                continue
            if kind == LINK_DUPLICATE:
                _add_link(links, post, "duplicate_of", other)
            elif kind == LINK_RELATED:
                _add_link(links, post, "related", other)
                _add_link(links, other, "related", post)
        return links

    def _read_votes(self) -> dict[str, dict[str, int]]:
        """Only sparse, cheap signals: favourites and bounties per post (Score already nets the votes)."""
        votes: dict[str, dict[str, int]] = {}
        for r in self._records("Votes.xml", "votes"):
            kind, post = r.attrs.get("VoteTypeId"), r.attrs.get("PostId")
            if not post or kind not in (VOTE_FAVORITE, VOTE_BOUNTY_START, VOTE_BOUNTY_CLOSE):
                continue
            per = votes.setdefault(post, {})
            if kind == VOTE_FAVORITE:
                per["favorites"] = per.get("favorites", 0) + 1
            else:
                key = "bounty_offered" if kind == VOTE_BOUNTY_START else "bounty_awarded"
                per[key] = per.get(key, 0) + _int(r.attrs.get("BountyAmount"))
        return votes

    # -- people -------------------------------------------------------------------------------------------
    def _people(self) -> Iterator[Person]:
        if self._member("Users.xml") is None:
            self.warn(self.path, None, "no Users.xml: authors are taken from the posts' OwnerUserId/OwnerDisplayName")
        for r in self._records("Users.xml", "users"):
            uid = r.attrs.get("Id", "").strip()
            if not _is_int(uid):
                self.warn(r.file, f"line {r.line}", f"user without a valid Id ({uid!r}); skipped")
                continue
            a = r.attrs
            meta: dict[str, Any] = {
                k: v
                for k, v in (
                    ("reputation", _int(a.get("Reputation"))),
                    ("location", a.get("Location")),
                    ("website_url", a.get("WebsiteUrl")),
                    ("created_at", a.get("CreationDate")),
                    ("last_access_at", a.get("LastAccessDate")),
                    ("views", _int(a.get("Views"))),
                    ("up_votes", _int(a.get("UpVotes"))),
                    ("down_votes", _int(a.get("DownVotes"))),
                    ("account_id", a.get("AccountId")),
                    ("site", self.site),
                    ("about", html_to_text(a.get("AboutMe", "")[:20_000])[:2_000] or None),
                )
                if v not in (None, "")
            }
            aliases = [Alias(AliasKind.STACKEXCHANGE, f"{self.site}:{uid}")]
            account = a.get("AccountId", "").strip()
            if _is_int(account) and int(account) > 0:
                aliases.append(Alias(AliasKind.EXTERNAL, f"stackexchange-account:{account}"))
            name = (a.get("DisplayName") or "").strip() or f"user {uid}"
            yield Person(
                source=self.source,
                external_id=uid,
                name=name[:300],
                aliases=aliases,
                is_bot=int(uid) < 0,
                meta=meta,
                listed=True,  # the site's user list
            )

    # -- posts --------------------------------------------------------------------------------------------
    def _posts(
        self,
        users: set[str],
        links: dict[str, dict[str, list[str]]],
        votes: dict[str, dict[str, int]],
        posts: _PostIndex,
    ) -> Iterator[tuple[Thread | None, Message]]:
        accepted: set[str] = set()
        waiting: dict[str, list[XmlRecord]] = {}  # question id -> answers seen before it
        for r in self._records("Posts.xml", "posts"):
            pid, kind = r.attrs.get("Id", "").strip(), r.attrs.get("PostTypeId")
            if not _is_int(pid):
                self.warn(r.file, f"line {r.line}", f"post without a valid Id ({pid!r}); skipped")
                continue
            if kind == QUESTION:
                thread, message = self._question(r, pid, users, links, votes)
                if thread is None or message is None:
                    continue
                posts.questions.add(int(pid))
                if r.attrs.get("AcceptedAnswerId"):
                    accepted.add(r.attrs["AcceptedAnswerId"].strip())
                yield thread, message
                for early in waiting.pop(pid, []):
                    answer = self._answer(early, users, votes, accepted, posts)
                    if answer is not None:
                        yield None, answer
            elif kind == ANSWER:
                parent = r.attrs.get("ParentId", "").strip()
                if not _is_int(parent):
                    self.warn(r.file, f"post id={pid} (line {r.line})", "answer without a ParentId; skipped")
                elif int(parent) in posts.questions:
                    answer = self._answer(r, users, votes, accepted, posts)
                    if answer is not None:
                        yield None, answer
                else:
                    waiting.setdefault(parent, []).append(r)
            # other post types (tag wikis, privilege wikis, nominations) are not Q&A: ignored on purpose
        for parent, answers in waiting.items():
            for r in answers:
                self.warn(
                    r.file,
                    f"post id={r.attrs.get('Id')} (line {r.line})",
                    f"answer to question id={parent}, which is not in Posts.xml; skipped",
                )

    def _question(
        self,
        r: XmlRecord,
        pid: str,
        users: set[str],
        links: dict[str, dict[str, list[str]]],
        votes: dict[str, dict[str, int]],
    ) -> tuple[Thread | None, Message | None]:
        created = self._time(r, pid)
        if created is None:
            return None, None
        title = " ".join(r.attrs.get("Title", "").split())
        url = f"https://{self.site}/questions/{pid}"
        meta: dict[str, Any] = {
            "tags": _tags(r.attrs.get("Tags", "")),
            "duplicate_of": links.get(pid, {}).get("duplicate_of", []),
            "related": links.get(pid, {}).get("related", []),
        }
        for key, attr in (
            ("view_count", "ViewCount"),
            ("answer_count", "AnswerCount"),
            ("favorite_count", "FavoriteCount"),
        ):
            if r.attrs.get(attr):
                meta[key] = _int(r.attrs[attr])
        for key, attr in (("closed_at", "ClosedDate"), ("community_owned_at", "CommunityOwnedDate")):
            if r.attrs.get(attr):
                meta[key] = r.attrs[attr]
        thread = Thread(
            source=self.source,
            external_id=pid,
            space_ref=self.site,
            title=title or None,
            created_at=created,
            url=url,
            meta=meta,
        )
        body = self._text(r, f"post id={pid}", html_to_text(r.attrs.get("Body", "")[: 4 * MAX_TEXT]))
        text = f"{title}\n\n{body}" if title and body else title or body
        return thread, self._message(r, pid, pid, created, text, MessageKind.QUESTION, users, votes, url=url)

    def _answer(
        self,
        r: XmlRecord,
        users: set[str],
        votes: dict[str, dict[str, int]],
        accepted: set[str],
        posts: _PostIndex,
    ) -> Message | None:
        pid, parent = r.attrs["Id"].strip(), r.attrs["ParentId"].strip()
        created = self._time(r, pid)
        if created is None:
            return None
        body = self._text(r, f"post id={pid}", html_to_text(r.attrs.get("Body", "")[: 4 * MAX_TEXT]))
        message = self._message(
            r,
            pid,
            parent,
            created,
            body,
            MessageKind.ANSWER,
            users,
            votes,
            url=f"https://{self.site}/a/{pid}",
        )
        message.reply_to_ref = parent
        message.accepted = pid in accepted
        posts.answers[int(pid)] = int(parent)
        return message

    def _message(
        self,
        r: XmlRecord,
        pid: str,
        thread: str,
        created: Any,
        text: str,
        kind: MessageKind,
        users: set[str],
        votes: dict[str, dict[str, int]],
        *,
        url: str,
    ) -> Message:
        meta: dict[str, Any] = dict(votes.get(pid, {}))
        where = f"post id={pid} (line {r.line})"
        author = self._author(r, where, r.attrs.get("OwnerUserId"), r.attrs.get("OwnerDisplayName"), users, meta)
        edited = None
        if r.attrs.get("LastEditDate"):
            try:
                edited = parse_timestamp(r.attrs["LastEditDate"])
            except TimestampError as exc:
                self.warn(r.file, f"post id={pid} (line {r.line})", f"LastEditDate ignored: {exc}")
        if r.truncated:
            meta["truncated"] = True
        return Message(
            source=self.source,
            external_id=pid,
            thread_ref=thread,
            author_ref=author,
            created_at=created,
            text=text,
            kind=kind,
            score=_int(r.attrs.get("Score")),
            edited_at=edited,
            url=url,
            meta=meta,
        )

    def _author(
        self,
        r: XmlRecord,
        where: str,
        uid: str | None,
        display: str | None,
        users: set[str],
        meta: dict[str, Any],
    ) -> str | None:
        uid = (uid or "").strip()
        display = " ".join((display or "").split())
        if uid in users:
            return uid
        if self._from_posts is not None and uid:
            if not _is_int(uid):
                self.warn(r.file, where, f"owner user id {uid[:40]!r} is not a number; imported without an author")
            else:
                users.add(uid)
                self._from_posts.append(self._owner(uid, display))
                return uid
        if uid:
            meta["owner_user_id"] = uid[:40]  # a user the dump does not list (deleted), or an unusable id
        if display:
            meta["owner_display_name"] = display[:300]
        return None

    def _owner(self, uid: str, display: str) -> Person:
        """A person known only from a post or comment they wrote (a dump without Users.xml)."""
        return Person(
            source=self.source,
            external_id=uid,
            name=(display or f"user {uid}")[:300],
            aliases=[Alias(AliasKind.STACKEXCHANGE, f"{self.site}:{uid}")],
            is_bot=int(uid) < 0,
            meta={"site": self.site, "from_posts": True},
        )

    def _take_authors(self, batch: Batch) -> None:
        """Put the people first seen in the pending post into its batch (people are written before messages)."""
        if self._from_posts:
            batch.people.extend(self._from_posts)
            self._from_posts.clear()

    # -- comments -----------------------------------------------------------------------------------------
    def _comments(self, users: set[str], posts: _PostIndex) -> Iterator[Message]:
        for r in self._records("Comments.xml", "comments"):
            cid, post = r.attrs.get("Id", "").strip(), r.attrs.get("PostId", "").strip()
            where = f"comment id={cid} (line {r.line})"
            if not _is_int(cid) or not _is_int(post):
                self.warn(r.file, f"line {r.line}", "comment without a valid Id/PostId; skipped")
                continue
            question = posts.thread_of(int(post))
            if question is None:
                continue  # a comment on a wiki post or on a post the dump does not have (deleted)
            created = self._time(r, f"comment {cid}")
            if created is None:
                continue
            meta: dict[str, Any] = {}
            author = self._author(r, where, r.attrs.get("UserId"), r.attrs.get("UserDisplayName"), users, meta)
            text = self._text(r, where, r.attrs.get("Text", "").strip())
            yield Message(
                source=self.source,
                external_id=f"c{cid}",
                thread_ref=str(question),
                author_ref=author,
                created_at=created,
                text=text,
                kind=MessageKind.COMMENT,
                reply_to_ref=post,
                score=_int(r.attrs.get("Score")),
                url=f"https://{self.site}/questions/{question}#comment{cid}_{post}",
                meta=meta,
            )

    # -- fields -------------------------------------------------------------------------------------------
    def _time(self, r: XmlRecord, what: str) -> Any:
        try:
            return parse_timestamp(r.attrs.get("CreationDate", ""))
        except TimestampError as exc:
            self.warn(
                r.file,
                f"{'post id=' + what if what.isdigit() else what} (line {r.line})",
                f"bad CreationDate: {exc}; skipped",
            )
            return None

    def _text(self, r: XmlRecord, where: str, text: str) -> str:
        if len(text) > MAX_TEXT:
            self.warn(r.file, where, f"text of {len(text):,} characters cut to {MAX_TEXT:,}")
            r.truncated = True
            return text[:MAX_TEXT]
        return text


class _PostIndex:
    """Which thread each post belongs to: question ids, and answer id -> question id (two ints per answer)."""

    def __init__(self) -> None:
        self.questions: set[int] = set()
        self.answers: dict[int, int] = {}

    def thread_of(self, post: int) -> int | None:
        return post if post in self.questions else self.answers.get(post)


def _site_host(path: Path) -> str:
    name = path.name[:-4] if path.name.lower().endswith(".zip") else path.name
    name = name.removesuffix(".7z")
    return name.strip().lower() or "stackexchange"


def _add_link(links: dict[str, dict[str, list[str]]], post: str, key: str, other: str) -> None:
    per = links.setdefault(post.strip(), {}).setdefault(key, [])
    if other.strip() not in per:
        per.append(other.strip())


def _tags(raw: str) -> list[str]:
    """``<beer><hops>`` (older dumps) or ``|beer|hops|`` (newer dumps) -> ["beer", "hops"]."""
    found = _TAGS.findall(raw)
    return found if found else [t for t in raw.split("|") if t.strip()]


def _is_int(value: str) -> bool:
    """ASCII digits with an optional minus (``str.isdigit`` also accepts "²" or "--5", which ``int`` refuses)."""
    return _INT.fullmatch(value) is not None


def _int(value: str | None) -> int:
    try:
        return int((value or "0").strip())
    except ValueError:
        return 0
