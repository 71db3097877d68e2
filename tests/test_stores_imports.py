"""`salespulse import stores | store-daily | wifi`: good rows land, bad rows are named by their file line and
skipped, a mapping names odd columns, the figures then colour the day."""

from __future__ import annotations

from bot.cli import main
from store import open_store
from store import stores as stores_store

STORES = """门店编号,门店名称,区域,门店类型,店长,店员,开门,打烊,城市,纬度,经度,区域经理
s1,南京西路店,华东区,饮料柜,周店长,小美、小刚,10:00,22:00,上海,31.23,121.47,区域王
s2,徐家汇店,华东区,饮料柜,吴店长,小红,10:00,25:00,上海,,,区域王
,无编号店,华东区,饮料柜,,,,,,,,
s3,"多行
名字店",华东区,饮料柜,,,10:00,22:00,上海,91,121,
s4,静安店,华东区,饮料柜,,小李,09:30,21:30,上海,31.22,121.45,
"""


def run_cli(*args: str) -> int:
    return main(list(args))


def test_import_stores_with_bad_rows(tmp_path, capsys):
    db = tmp_path / "x.db"
    f = tmp_path / "stores.csv"
    f.write_text(STORES, encoding="utf-8")
    assert run_cli("import", "stores", str(f), "--db", str(db)) == 1
    out, err = capsys.readouterr()
    assert f"{f}:3：打烊“25:00”不是 HH:MM" in err
    assert f"{f}:4：门店编号是空的" in err
    assert f"{f}:5：纬度 / 经度 超出范围" in err, "a quoted two-line cell keeps the line numbers true"
    assert "已导入 2 家门店" in out
    store = open_store(db)
    assert [r.id for r in stores_store.all_stores(store)] == ["s1", "s4"]
    staff = stores_store.staff_of(store, "s1")
    assert {role for _p, role in staff} == {"manager", "clerk"} and len(staff) == 3
    assert stores_store.areas(store)["华东区"][0] is not None
    store.close()


def test_import_store_daily_with_bad_rows_and_mapping(tmp_path, capsys):
    db = tmp_path / "x.db"
    f = tmp_path / "stores.csv"
    f.write_text(STORES, encoding="utf-8")
    run_cli("import", "stores", str(f), "--db", str(db))
    capsys.readouterr()
    daily = tmp_path / "daily.csv"
    daily.write_text("店,营业日,客流,在岗\n"
                     "s1,2026-03-01,60,5\n"
                     "南京西路店,2026/3/2,50,5\n"
                     "s9,2026-03-01,10,1\n"
                     "s1,2026-13-01,10,1\n"
                     "s1,2026-03-03,abc,1\n"
                     "s1,2026-03-04,10,0\n"
                     "s1,2099-01-01,10,1\n", encoding="utf-8")
    assert run_cli("import", "store-daily", str(daily), "--db", str(db)) == 2, "no store column recognised"
    assert "store" in capsys.readouterr().err
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\nstore = "店"\ndate = "营业日"\nreceptions = "客流"\nstaff = "在岗"\n', encoding="utf-8")
    assert run_cli("import", "store-daily", str(daily), "--map", str(mapping), "--db", str(db)) == 1
    out, err = capsys.readouterr()
    for line, why in ((4, "不认识的门店“s9”"), (5, "不是 YYYY-MM-DD"), (6, "不是数字"), (7, "有客流就需要在岗"),
                      (8, "在未来")):
        assert any(e.startswith(f"{daily}:{line}：") and why in e for e in err.splitlines()), (line, err)
    assert "已导入 2 行" in out
    store = open_store(db)
    assert stores_store.receptions(store, "s1", "2026-03-01", "2026-03-02") == {
        "2026-03-01": (60, 5, True), "2026-03-02": (50, 5, True)}
    store.close()


def test_import_wifi_computes_dwell(tmp_path, capsys):
    db = tmp_path / "x.db"
    f = tmp_path / "stores.csv"
    f.write_text(STORES, encoding="utf-8")
    run_cli("import", "stores", str(f), "--db", str(db))
    probes = tmp_path / "probes.csv"
    lines = ["time,store,device,rssi"]
    for i in range(6):  # a customer: 12:00–12:05
        lines.append(f"2026-03-01 12:0{i}:00,s1,cust-a,-60")
    for i in range(4):  # another: 15:00–15:03
        lines.append(f"2026-03-01 15:0{i}:00,南京西路店,cust-b,-55")
    lines.append("2026-03-01 25:00:00,s1,cust-c,-50")
    lines.append("2026-03-01 13:00:00,s1,,-50")
    lines.append("2026-03-01 13:00:00,nowhere,cust-d,-50")
    probes.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert run_cli("import", "wifi", str(probes), "--db", str(db)) == 1
    out, err = capsys.readouterr()
    assert "12" in err and "13" in err, "bad rows named by line"
    assert "nowhere" in err
    store = open_store(db)
    dwell = stores_store.dwell(store, "s1", "2026-03-01", "2026-03-01")
    assert dwell["2026-03-01"][1] == 2 and abs(dwell["2026-03-01"][0] - 4.0) < 0.01
    store.close()


def test_import_errors_are_chinese_and_name_the_files_own_columns(tmp_path, capsys):
    """A new user's files: a repeated store id, a Wi-Fi record of a store nobody imported, and daily figures whose
    columns are Chinese — every complaint is Chinese and names the column as the file spells it."""
    db = tmp_path / "x.db"
    f = tmp_path / "stores.csv"
    f.write_text(STORES + "s1,南京西路店二号,华东区,饮料柜,,,10:00,22:00,上海,,,\n", encoding="utf-8")
    assert run_cli("import", "stores", str(f), "--db", str(db)) == 1
    err = capsys.readouterr().err
    assert f"{f}:8：门店编号“s1”重复（保留第一行）" in err, err
    assert "appears twice" not in err
    probes = tmp_path / "probes.csv"
    probes.write_text("time,store,device,rssi\n2026-03-01 12:00:00,s1,cust-a,-60\n"
                      "2026-03-01 12:00:00,nowhere,cust-d,-50\n", encoding="utf-8")
    assert run_cli("import", "wifi", str(probes), "--db", str(db)) == 1
    err = capsys.readouterr().err
    assert "不认识的门店“nowhere”" in err and "unknown store" not in err, err
    daily = tmp_path / "daily.csv"
    daily.write_text("门店,日期,接待人数,在岗人数,平均停留\n"
                     "s1,2026-03-01,abc,2,\n"
                     "s1,2026-03-02,-5,2,\n"
                     "s1,2026-03-03,10,,\n"
                     "s1,2026-03-04,,,999\n"
                     "s1,2026-03-05,,,\n"
                     ",2026-03-06,10,2,\n", encoding="utf-8")
    assert run_cli("import", "store-daily", str(daily), "--db", str(db)) == 1
    err = capsys.readouterr().err
    for line, why in ((2, "接待人数“abc”不是数字"), (3, "接待人数“-5”不是 ≥ 0 的整数"), (4, "在岗人数"),
                      (5, "平均停留“999”超出范围"), (6, "接待人数和平均停留都没有"), (7, "门店是空的")):
        assert any(e.startswith(f"{daily}:{line}：") and why in e for e in err.splitlines()), (line, why, err)
    for english in ("receptions", "staff", "dwell_min"):
        assert english not in err, err


def test_store_rows_are_explained_with_the_files_chinese_headers(tmp_path, capsys):
    """A stores file with Chinese headers: each bad row names 打烊, 门店名称, 纬度, 时区 as the file does, not the
    bot.toml keys closes / name / latitude / timezone."""
    f = tmp_path / "stores.csv"
    f.write_text("门店编号,门店名称,开门,打烊,时区,纬度,经度\n"
                 "s1,一店,10:00,25:00,,,\n"
                 "s2,,10:00,22:00,,,\n"
                 "s3,三店,10:00,22:00,火星/北京,,\n"
                 "s4,四店,10:00,22:00,,31.2,\n"
                 "s5,五店,10:00,22:00,,abc,121\n"
                 "s 6,六店,10:00,22:00,,,\n", encoding="utf-8")
    assert run_cli("import", "stores", str(f), "--db", str(tmp_path / "x.db")) == 1
    err = capsys.readouterr().err
    for line, why in ((2, "打烊“25:00”不是 HH:MM"), (3, "门店名称是空的"), (4, "时区“火星/北京”"),
                      (5, "纬度和经度要同时填写"), (6, "纬度“abc”不是数字"), (7, "门店编号“s 6”")):
        assert f"{f}:{line}：{why}" in err, (line, why, err)
    for english in ("closes", "name", "latitude", "longitude", "timezone", "id“"):
        assert english not in err, (english, err)


def test_files_that_are_not_tables_get_a_whole_sentence(tmp_path, capsys):
    """An empty file was "找不到 store, date 的列（文件的列：）"; a file that is not text read "或在  的 [source]
    里写 encoding" (no mapping file named). Each now says what is wrong in Chinese, naming the columns as 门店/日期."""
    db = str(tmp_path / "x.db")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    assert run_cli("import", "store-daily", str(empty), "--db", db) == 2
    err = capsys.readouterr().err
    assert "文件是空的" in err and "store" not in err.replace(str(empty), ""), err
    odd = tmp_path / "odd.csv"
    odd.write_text("店,哪天,客流\ns1,2026-03-01,5\n", encoding="utf-8")
    assert run_cli("import", "store-daily", str(odd), "--db", db) == 2
    err = capsys.readouterr().err
    assert "找不到 门店（store）、日期（date） 的列" in err, err
    binary = tmp_path / "photo.csv"
    binary.write_bytes(bytes(range(128, 256)) * 8)
    assert run_cli("import", "stores", str(binary), "--db", db) == 2
    err = capsys.readouterr().err
    assert "在  的" not in err and "--map" in err, err
