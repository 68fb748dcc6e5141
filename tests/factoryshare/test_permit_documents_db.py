"""Permit documents live in the database, in the permit's transaction, within a member's cap."""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from factoryshare.access import Actor
from factoryshare.migrate import MIGRATIONS, alembic_config
from factoryshare.models import AuditEvent, Member, ProductionHouse, Role
from factoryshare.models.permits import Permit, PermitDocumentContent
from factoryshare.services import permits

URL = "/api/v1/permits"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _upload(client, permit_id, headers, content=PDF, name="sertifikat.pdf"):  # type: ignore[no-untyped-def]
    return client.post(
        f"{URL}/{permit_id}/document",
        headers=headers,
        data={"document": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def _stored_rows(db, permit_id=None) -> int:  # type: ignore[no-untyped-def]
    stmt = select(func.count()).select_from(PermitDocumentContent)
    if permit_id is not None:
        stmt = stmt.where(PermitDocumentContent.permit_id == permit_id)
    return db.scalar(stmt) or 0


def _files_under(settings) -> list[Path]:  # type: ignore[no-untyped-def]
    root = Path(settings.instance_path) / "permits"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture()
def owner(db, make_user, make_food_product, make_permit, token_for):  # type: ignore[no-untyped-def]
    product = make_food_product()
    permit = make_permit(product, "halal")
    user = make_user(Role.member, member_id=product.member_id)
    return permit, token_for(user), product


def test_an_uploaded_document_is_stored_in_the_database_and_downloaded_from_it(
    client, db, settings, owner
):
    permit, headers, _ = owner
    before = _files_under(settings)
    r = _upload(client, permit.id, headers, name="Sertifikat Halal é.pdf")
    assert r.status_code == 200, r.json
    assert r.json["document"] == {
        "name": "Sertifikat Halal é.pdf",
        "mime": "application/pdf",
        "size": len(PDF),
    }
    db.expire_all()
    assert db.get(PermitDocumentContent, permit.id).content == PDF
    assert _files_under(settings) == before  # nothing written to the instance folder
    r = client.get(f"{URL}/{permit.id}/document", headers=headers)
    assert r.status_code == 200 and r.data == PDF
    assert r.headers["Content-Type"] == "application/pdf"
    disposition = r.headers["Content-Disposition"]
    assert (
        disposition.startswith("attachment;")
        and "filename*=UTF-8''Sertifikat%20Halal" in disposition
    )


def test_listing_permits_does_not_load_the_documents_bytes(client, db, owner):
    permit, headers, _ = owner
    assert _upload(client, permit.id, headers).status_code == 200
    db.expire_all()
    listed = permits.list_permits(
        db, Actor(user_id=None, role=Role.admin), member_id=permit.member_id
    )
    assert [p.id for p in listed] == [permit.id]
    assert "document_content" not in sa.inspect(listed[0]).dict
    assert listed[0].has_document


def test_a_failed_upload_leaves_no_document_row_and_no_bytes(
    client, db, settings, owner, monkeypatch
):
    permit, headers, _ = owner
    before = _files_under(settings)

    def fail_after_the_row_is_written(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the audit trail is unavailable")

    monkeypatch.setattr(permits.audit, "record", fail_after_the_row_is_written)
    assert _upload(client, permit.id, headers).status_code == 500
    monkeypatch.undo()
    db.expire_all()
    assert _stored_rows(db) == 0
    assert db.get(Permit, permit.id).document_size is None
    assert _files_under(settings) == before
    assert client.get(f"{URL}/{permit.id}", headers=headers).json["document"] is None


def test_an_upload_the_permit_rules_refuse_leaves_no_document_row(client, db, settings, owner):
    permit, headers, _ = owner
    r = _upload(client, permit.id, headers, content=b"MZ\x90\x00 not a pdf", name="izin.pdf")
    assert r.status_code == 422 and "document" in r.json["errors"]
    assert _stored_rows(db) == 0 and _files_under(settings) == []
    assert client.get(f"{URL}/{permit.id}/document", headers=headers).status_code == 404


def test_replacing_a_document_keeps_only_the_new_bytes(client, db, owner):
    permit, headers, _ = owner
    assert _upload(client, permit.id, headers).status_code == 200
    r = _upload(client, permit.id, headers, content=PNG, name="scan.png")
    assert r.status_code == 200
    assert r.json["document"] == {"name": "scan.png", "mime": "image/png", "size": len(PNG)}
    db.expire_all()
    assert _stored_rows(db, permit.id) == 1
    assert db.get(PermitDocumentContent, permit.id).content == PNG
    r = client.get(f"{URL}/{permit.id}/document", headers=headers)
    assert r.data == PNG and r.headers["Content-Type"] == "image/png"


def test_removing_a_document_deletes_its_bytes_and_keeps_the_permit(client, db, owner):
    permit, headers, _ = owner
    assert _upload(client, permit.id, headers).status_code == 200
    r = client.delete(f"{URL}/{permit.id}/document", headers=headers)
    assert r.status_code == 200 and r.json["document"] is None
    assert _stored_rows(db, permit.id) == 0
    assert client.get(f"{URL}/{permit.id}/document", headers=headers).status_code == 404
    assert client.get(f"{URL}/{permit.id}", headers=headers).status_code == 200
    assert client.delete(f"{URL}/{permit.id}/document", headers=headers).status_code == 404


def test_deleting_a_permit_deletes_its_documents_bytes(client, db, owner):
    permit, headers, _ = owner
    permit_id = permit.id
    assert _upload(client, permit_id, headers).status_code == 200
    assert _stored_rows(db, permit_id) == 1
    assert client.delete(f"{URL}/{permit_id}", headers=headers).status_code == 204
    assert _stored_rows(db, permit_id) == 0


def test_a_member_over_its_document_storage_cap_gets_413_with_the_cap_and_its_use(
    settings, session_factory, db, owner, make_permit
):
    from api import create_app

    permit, headers, product = owner
    cap = len(PDF) + len(PNG) - 1
    app = create_app(
        dataclasses.replace(settings, permit_documents_max_bytes_per_member=cap),
        session_factory=session_factory,
    )
    client = app.test_client()
    second = make_permit(product, "pirt")
    assert _upload(client, permit.id, headers).status_code == 200
    r = _upload(client, second.id, headers, content=PNG, name="scan.png")
    assert r.status_code == 413, r.json
    assert r.json["code"] == "document_storage_full" and r.json["status"] == 413
    assert r.json["details"] == {"cap_bytes": cap, "used_bytes": len(PDF), "file_bytes": len(PNG)}
    assert "document" in r.json["errors"]
    # Said in the member's language (Indonesian by default), the sizes in kB or MB, not bytes.
    assert r.json["message"].startswith("Dokumen izin Anda akan memakai "), r.json
    assert " kB" in r.json["message"] and "bytes" not in r.json["message"], r.json
    assert _stored_rows(db, second.id) == 0
    # Replacing a document frees its old bytes first: a replacement that fits is taken.
    assert _upload(client, permit.id, headers, content=PNG, name="scan.png").status_code == 200


def test_another_member_gets_404_for_the_download_and_may_not_remove_it(
    client, db, make_user, owner, token_for
):
    permit, headers, _ = owner
    assert _upload(client, permit.id, headers).status_code == 200
    stranger = token_for(make_user(Role.member))
    assert client.get(f"{URL}/{permit.id}/document", headers=stranger).status_code == 404
    assert client.delete(f"{URL}/{permit.id}/document", headers=stranger).status_code == 404
    assert _upload(client, permit.id, stranger, content=PNG).status_code == 404
    member = db.get(Member, permit.member_id)
    manager = token_for(make_user(Role.manager, houses=[db.get(ProductionHouse, member.house_id)]))
    assert client.get(f"{URL}/{permit.id}/document", headers=manager).data == PDF
    assert _stored_rows(db, permit.id) == 1


# -- the migration that moved the files into the database ---------------------------------------

MIGRATION_FILE = MIGRATIONS / "versions" / "0014_permit_documents_db.py"


def _migration():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("permit_documents_db", MIGRATION_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _old_database(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A SQLite database at the schema before the move (0008), foreign keys off so that
    permits can name members that are not there."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(url, conn), "0008_permits")
    return url, engine


def _insert_permit(conn, permit_id: int, path: str | None, **document) -> None:  # type: ignore[no-untyped-def]
    type_id = conn.execute(sa.text("SELECT id FROM permit_types WHERE code = 'halal'")).scalar()
    conn.execute(
        sa.text(
            "INSERT INTO permits (id, member_id, permit_type_id, number, issuer, status, "
            "reminders_sent, created_at, updated_at, document_path, document_mime, document_size, "
            "document_name) VALUES (:id, 7, :type_id, 'ID32110000123450124', 'BPJPH', 'active', "
            "'[]', '2026-11-01 00:00:00', '2026-11-01 00:00:00', :path, :mime, :size, :name)"
        ),
        {
            "id": permit_id,
            "type_id": type_id,
            "path": path,
            "mime": document.get("mime"),
            "size": document.get("size"),
            "name": document.get("name"),
        },
    )


def test_the_migrations_data_step_moves_an_existing_file_into_the_database(tmp_path, caplog):
    instance = tmp_path / "instance"
    (instance / "permits" / "7").mkdir(parents=True)
    (instance / "permits" / "7" / "1-abc.pdf").write_bytes(PDF)
    (tmp_path / "secret.pdf").write_bytes(PDF)
    _, engine = _old_database(tmp_path)
    migration = _migration()
    with engine.begin() as conn:
        _insert_permit(
            conn, 1, "permits/7/1-abc.pdf", mime="application/pdf", size=len(PDF), name="halal.pdf"
        )
        _insert_permit(
            conn, 2, "permits/7/2-gone.pdf", mime="application/pdf", size=10, name="gone.pdf"
        )
        _insert_permit(conn, 3, "../secret.pdf", mime="application/pdf", size=len(PDF), name="x")
        _insert_permit(conn, 4, None)
        PermitDocumentContent.__table__.create(conn)
        with caplog.at_level(logging.WARNING):
            counts = migration.move_documents(conn, instance)
        assert counts == {"moved": 1, "missing": 2}
        stored = dict(
            conn.execute(sa.text("SELECT permit_id, content FROM permit_document_contents")).all()
        )
        assert stored == {1: PDF}
        documents = {
            row[0]: tuple(row[1:])
            for row in conn.execute(
                sa.text("SELECT id, document_name, document_size FROM permits ORDER BY id")
            )
        }
    assert documents == {
        1: ("halal.pdf", len(PDF)),
        2: (None, None),
        3: (None, None),
        4: (None, None),
    }
    assert "permits/7/2-gone.pdf" in caplog.text and "permit 2" in caplog.text
    engine.dispose()


def test_upgrading_moves_the_files_and_the_permits_table_keeps_no_file_path(tmp_path):
    instance = tmp_path / "instance"
    (instance / "permits" / "7").mkdir(parents=True)
    (instance / "permits" / "7" / "5-scan.png").write_bytes(PNG)
    url, engine = _old_database(tmp_path)
    with engine.begin() as conn:
        _insert_permit(
            conn, 5, "permits/7/5-scan.png", mime="image/png", size=len(PNG), name="scan.png"
        )
    with engine.begin() as conn:
        config = alembic_config(url, conn)
        config.attributes["instance_path"] = instance
        command.upgrade(config, "0014_permit_documents_db")
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.text("SELECT content FROM permit_document_contents WHERE permit_id = 5")
            ).scalar()
            == PNG
        )
        columns = {c["name"] for c in sa.inspect(conn).get_columns("permits")}
    assert "document_path" not in columns and "document_size" in columns
    engine.dispose()


def test_upgrading_a_fresh_database_without_an_instance_folder_moves_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        config = alembic_config(url, conn)
        config.attributes["instance_path"] = tmp_path / "no-such-folder"
        command.upgrade(config, "0014_permit_documents_db")
        assert conn.execute(sa.text("SELECT count(*) FROM permit_document_contents")).scalar() == 0
    assert not (tmp_path / "no-such-folder").exists()
    engine.dispose()


# -- two uploads at once (PostgreSQL) ------------------------------------------------------------


@pytest.mark.postgres
def test_two_parallel_uploads_of_one_member_cannot_both_pass_the_storage_cap(
    engine, is_postgres, password_hash
):
    if not is_postgres:
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, there is no race to lose")
    from tests.concurrency.test_double_booking import RaceHouse, _all_at_once
    from tests.factories.permits import permit_type

    race = RaceHouse(engine, "docs", password_hash)
    member_id = race.member_ids[0]
    with Session(engine, expire_on_commit=False) as s:
        halal = permit_type(s, "halal")
        created = [
            Permit(
                member_id=member_id,
                permit_type_id=halal.id,
                number=f"ID3211000012345012{i}",
                issuer="BPJPH",
                reminders_sent=[],
            )
            for i in range(2)
        ]
        s.add_all(created)
        s.commit()
        permit_ids = [p.id for p in created]
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    actor = Actor(user_id=None, role=Role.member, member_id=member_id)

    def upload(permit_id: int) -> str:
        with factory() as session:
            try:
                permits.attach_document(
                    session,
                    actor,
                    permit_id,
                    filename="a.pdf",
                    content=PDF,
                    member_cap_bytes=len(PDF) + 1,
                )
                session.commit()
                return "stored"
            except permits.DocumentStorageFull as exc:
                session.rollback()
                return exc.code

    try:
        assert sorted(_all_at_once(upload, permit_ids)) == ["document_storage_full", "stored"]
        with Session(engine) as s:
            assert (
                s.scalar(
                    select(func.count())
                    .select_from(PermitDocumentContent)
                    .where(PermitDocumentContent.permit_id.in_(permit_ids))
                )
                == 1
            )
    finally:
        with Session(engine) as s:
            s.execute(
                sa.delete(AuditEvent).where(
                    AuditEvent.object_type == "permits",
                    AuditEvent.object_id.in_(map(str, permit_ids)),
                )
            )
            s.execute(sa.delete(Permit).where(Permit.id.in_(permit_ids)))
            s.commit()
        race.remove()
