//! The content of the documents: every field and fixed sentence, built from the record.

use anjian_core::Store;
use anjian_core::agency::{Agency, DocType};
use anjian_core::document::html;
use anjian_core::inspection::AnswerDetails;
use tempfile::tempdir;

use crate::common::*;

const AGENCY: &str = include_str!("../../../templates/agency.example.toml");

/// A factory inspection with three hazards on two deadlines, and blocks for its documents.
fn inspected() -> (tempfile::TempDir, Store, String) {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    let agency = Agency::parse("agency.example.toml", AGENCY).unwrap();
    store.init_profile(&zhang(), Some(&agency)).unwrap();
    let day = "2026-11-20";
    for doc_type in [DocType::Record, DocType::Order] {
        store
            .add_number_block(doc_type, 2026, 1, 99, morning(day))
            .unwrap();
    }
    let id = start_trade(&mut store, day);
    store.set_on_site_post(&id, "生产副总经理").unwrap();
    answer_all_required(&mut store, &id, day);
    for (item, note, deadline) in [
        ("IT-002", Some("焊工<张某>无证上岗"), "2026-12-05"),
        ("IT-013", None, "2026-12-20"),
        ("IT-030", Some("未见责任制文件"), "2026-12-05"),
    ] {
        let details = AnswerDetails {
            note: note.map(str::to_string),
            deadline: Some(date(deadline)),
            ..Default::default()
        };
        store
            .answer_item(&id, item, "fail", &details, morning(day))
            .unwrap();
    }
    (dir, store, id)
}

#[test]
fn the_inspection_record_has_every_field_and_the_fixed_sentence() {
    let (_dir, mut store, id) = inspected();
    let document = store
        .document(&id, DocType::Record, morning("2026-11-20"))
        .unwrap();
    let text = document.to_text();
    for expected in [
        "安全生产行政执法文书",
        "淄博市应急管理局",
        "现场检查记录",
        "（淄）应急检记〔2026〕1号",
        "被检查单位：淄博齐林电力设备制造有限公司",
        "地址：淄博市张店区科苑街道华光路88号",
        "法定代表人（负责人）：陈晓东",
        "职务：生产副总经理",
        "联系电话：0533-3156789",
        "检查场所：一号车间",
        "检查时间：2026年11月20日09时00分至11月20日09时00分",
        "我们是淄博市应急管理局行政执法人员张伟、李娜，证件号码为37030001、37030002，这是我们的证件（出示证件）。现依法对你单位进行现场检查，请予以配合。",
        "1、特种作业人员",
        "（焊工<张某>无证上岗）。违反了《工贸企业重大事故隐患判定标准》第三条第（二）项，《中华人民共和国安全生产法》第三十条的规定。",
        "检查人员（签名）：张伟（证号 37030001）",
        "检查人员（签名）：李娜（证号 37030002）",
        "被检查单位现场负责人（签名）：",
        "日期：2026年11月20日",
        "本文书一式两份：一份由淄博市应急管理局备案，一份交被检查单位。",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    // The checklist's version is internal data; "依据：" introduces a decision's basis, not a
    // breach; nobody's post is assumed.
    for absent in ["版）", "依据：", "职务：法定代表人"] {
        assert!(!text.contains(absent), "{absent:?} in\n{text}");
    }
}

#[test]
fn the_post_is_taken_on_site_and_fixed_once_the_record_is_issued() {
    let (_dir, mut store, id) = inspected();
    let record = store.set_on_site_post(&id, "  安全总监 ").unwrap();
    assert_eq!(record.on_site_post.as_deref(), Some("安全总监"));
    let err = store.set_on_site_post(&id, &"长".repeat(41)).unwrap_err();
    assert!(err.to_string().contains("职务"), "{err}");
    store.set_on_site_post(&id, "生产副总经理").unwrap();
    let issued = store
        .issue_document(&id, DocType::Record, morning("2026-11-20"))
        .unwrap();
    let err = store.set_on_site_post(&id, "厂长").unwrap_err();
    assert!(
        err.to_string().contains("职务不能再修改") && err.to_string().contains(&issued.number),
        "{err}"
    );
    let text = store
        .document(&id, DocType::Record, morning("2026-11-20"))
        .unwrap()
        .to_text();
    assert!(text.contains("职务：生产副总经理"), "{text}");
}

#[test]
fn an_order_is_refused_while_a_finding_has_no_deadline_naming_it() {
    let (_dir, mut store, id) = inspected();
    store
        .issue_document(&id, DocType::Record, morning("2026-11-20"))
        .unwrap();
    let record = store.record(&id).unwrap();
    let template = store
        .template(&record.template_id, Some(record.template_version))
        .unwrap();
    let mut undated = record.clone();
    for entry in undated.hazards.iter_mut().skip(1) {
        entry.hazard.deadline = None;
    }
    let problems = anjian_core::document::issue_problems(
        &undated,
        &template,
        DocType::Order,
        morning("2026-11-20"),
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("IT-013、IT-030") && p.contains("整改期限")),
        "{problems:?}"
    );
    assert!(
        anjian_core::document::issue_problems(
            &record,
            &template,
            DocType::Order,
            morning("2026-11-20")
        )
        .is_empty()
    );
}

#[test]
fn the_order_states_each_deadline_once_and_the_remedy() {
    let (_dir, mut store, id) = inspected();
    store
        .issue_document(&id, DocType::Record, morning("2026-11-20"))
        .unwrap();
    let document = store
        .document(&id, DocType::Order, morning("2026-11-20"))
        .unwrap();
    let text = document.to_text();
    for expected in [
        "责令限期整改指令书",
        "（淄）应急责改〔2026〕1号",
        "淄博齐林电力设备制造有限公司：",
        "经查，你单位存在下列问题：",
        "现责令你单位对上述第1、3项问题于2026年12月5日前整改完毕，达到有关法律法规规章和标准规定的要求。由此造成事故的，依法追究有关人员的责任。",
        "现责令你单位对上述第2项问题于2026年12月20日前整改完毕",
        "整改期间，你单位应当采取措施，确保安全生产。对安全生产违法行为，将依法予以行政处罚。",
        "如果不服本指令，可以依法在60日内向淄博市人民政府申请行政复议，或者在6个月内依法向淄博市张店区人民法院提起行政诉讼，但本指令不停止执行，法律另有规定的除外。",
        "安全生产监管行政执法人员（签名）：张伟（证号 37030001）",
        "被检查单位负责人（签名）：",
        "淄博市应急管理局（印章）",
        "本文书一式两份：一份由淄博市应急管理局备案，一份交被检查单位。",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert_eq!(text.matches("现责令你单位").count(), 2);
    assert!(
        !text.contains("或者山东省应急管理厅") && !text.contains("____"),
        "{text}"
    );
}

#[test]
fn rendering_again_keeps_the_number_and_the_content() {
    let (_dir, mut store, id) = inspected();
    let first = store
        .document(&id, DocType::Record, morning("2026-11-20"))
        .unwrap();
    let again = store
        .document(&id, DocType::Record, morning("2026-11-21"))
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(first.content_hash(), again.content_hash());
    assert_eq!(store.number_register().unwrap().len(), 1);
}

#[test]
fn the_html_page_is_self_contained_and_escaped() {
    let (_dir, mut store, id) = inspected();
    let document = store
        .document(&id, DocType::Record, morning("2026-11-20"))
        .unwrap();
    let page = html::render(&document);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<html lang=\"zh-CN\">"));
    assert!(page.contains("<span class=\"nobr\">（淄）应急检记〔2026〕1号</span>"));
    assert!(page.contains("本文书一式两份：一份由淄博市应急管理局备案，一份交被检查单位。"));
    assert!(page.contains("焊工&lt;张某&gt;无证上岗"));
    assert!(!page.contains("<张某>"));
    assert!(
        !page.contains("src=") && !page.contains("href="),
        "no external assets"
    );
    assert!(page.contains(&document.content_hash()));
}
