"""Builds the application form templates (``<code>.docx`` and ``default.docx``) that
:mod:`broker.policy.application_form` fills with docxtpl. Run it again after changing
a form here: ``.venv/bin/python config/policies/forms/make_forms.py``. A policy added
later may ship its own ``<code>.docx`` made in Word with the same ``{{ … }}`` fields."""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

HERE = Path(__file__).resolve().parent
FONT = "SimSun"

# code → (title, the applicant's declaration)
FORMS = {
    "default": ("社会救助申请表", "本人承诺以上所填情况真实完整，如有隐瞒或虚报，愿承担相应责任。"),
    "dibao": (
        "最低生活保障申请书",
        "本人承诺以上所填家庭成员、收入和财产情况真实完整，同意民政部门核对家庭经济状况；如有隐瞒或虚报，愿退还所领保障金并承担相应责任。",
    ),
    "tekun": (
        "特困人员救助供养申请书",
        "本人承诺无劳动能力、无生活来源，无法定赡养、抚养、扶养义务人或其无履行能力，所填情况真实完整，同意核对本人经济状况。",
    ),
    "medical_aid": (
        "医疗救助申请表",
        "本人承诺所附诊断证明、费用票据和医保结算单真实有效，所填情况真实完整，如有虚报，愿退还救助金并承担相应责任。",
    ),
    "education_aid": (
        "教育救助申请表",
        "本人承诺所填学生就读情况和家庭经济困难情况真实完整，同意学校和教育部门核实。",
    ),
    "disability_subsidies": (
        "残疾人两项补贴申请审批表",
        "本人承诺所填残疾情况和家庭经济状况真实完整，残疾人证有效，同意残联和民政部门核实。",
    ),
    "temporary_aid": (
        "临时救助申请书",
        "本人承诺所述突发困难情况真实，所附证明材料真实有效，同意街道办事处核实家庭经济状况。",
    ),
}

FACTS = (
    ("申请编号", "{{ application_no }}"),
    ("受理部门", "{{ department }}"),
    ("受理编号", "{{ reference }}"),
    ("户主姓名", "{{ head_name }}"),
    ("申请人身份证号码", "{{ head_id_number }}"),
    ("家庭住址", "{{ address }}"),
    ("联系电话", "{{ phone }}"),
    ("所在社区网格", "{{ community }}"),
    ("家庭人口", "{{ member_count }} 人"),
    ("家庭月收入", "{{ monthly_income }}（人均 {{ income_per_capita }}）"),
)


def _font(document: Document) -> None:
    style = document.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(11)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)


def build(code: str, title: str, declaration: str) -> Path:
    document = Document()
    _font(document)
    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(title)
    run.bold = True
    run.font.size = Pt(18)

    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in FACTS:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value

    document.add_paragraph().add_run("家庭成员").bold = True
    members = document.add_table(rows=4, cols=4)
    members.style = "Table Grid"
    for cell, text in zip(members.rows[0].cells, ("姓名", "与户主关系", "出生日期", "身份证号码"), strict=True):
        cell.text = text
    members.rows[1].cells[0].text = "{%tr for m in members %}"
    for cell, text in zip(
        members.rows[2].cells, ("{{ m.name }}", "{{ m.relation }}", "{{ m.born }}", "{{ m.id_number }}"), strict=True
    ):
        cell.text = text
    members.rows[3].cells[0].text = "{%tr endfor %}"

    document.add_paragraph().add_run("申请理由（按登记信息核对）").bold = True
    document.add_paragraph("{%p for r in reasons %}")
    document.add_paragraph("· {{ r }}")
    document.add_paragraph("{%p endfor %}")

    document.add_paragraph().add_run("所附材料").bold = True
    document.add_paragraph("{%p for d in documents %}")
    document.add_paragraph("{{ d.ticked }} {{ d.label }}")
    document.add_paragraph("{%p endfor %}")

    document.add_paragraph().add_run("申请人声明").bold = True
    document.add_paragraph(declaration)
    document.add_paragraph("申请人（签字或按手印）：________________    日期：______年____月____日")
    document.add_paragraph("代办社工：{{ caseworker }}    填表日期：{{ date }}")
    path = HERE / f"{code}.docx"
    document.save(str(path))
    return path


def main() -> None:
    for code, (title, declaration) in FORMS.items():
        print(build(code, title, declaration).name)


if __name__ == "__main__":
    main()
