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
        "(淄)安监检记〔2026〕0001号",
        "被检查单位：淄博齐林电力设备制造有限公司",
        "地址：淄博市张店区科苑街道华光路88号",
        "法定代表人（负责人）：陈晓东",
        "职务：",
        "联系电话：0533-3156789",
        "检查场所：一号车间",
        "检查时间：2026年11月20日09时00分至11月20日09时00分",
        "我们是淄博市应急管理局行政执法人员张伟、李娜，证件号码为37030001、37030002，这是我们的证件（出示证件）。现依法对你单位进行现场检查，请予以配合。",
        "1、特种作业人员",
        "（焊工<张某>无证上岗）。依据：《工贸企业重大事故隐患判定标准》第三条第（二）项",
        "检查人员（签名）：张伟（证号 37030001）",
        "检查人员（签名）：李娜（证号 37030002）",
        "被检查单位现场负责人（签名）：",
        "日期：2026年11月20日",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
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
        "(淄)安监责改〔2026〕0001号",
        "淄博齐林电力设备制造有限公司：",
        "经查，你单位存在下列问题：",
        "现责令你单位对上述第1、3项问题于2026年12月5日前整改完毕，达到有关法律法规规章和标准规定的要求。由此造成事故的，依法追究有关人员的责任。",
        "现责令你单位对上述第2项问题于2026年12月20日前整改完毕",
        "整改期间，你单位应当采取措施，确保安全生产。对安全生产违法行为，将依法予以行政处罚。",
        "如果不服本指令，可以依法在60日内向淄博市人民政府或者山东省应急管理厅申请行政复议，或者在6个月内依法向淄博市张店区人民法院提起行政诉讼，但本指令不停止执行，法律另有规定的除外。",
        "安全生产监管行政执法人员（签名）：张伟（证号 37030001）",
        "被检查单位负责人（签名）：",
        "淄博市应急管理局（印章）",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert_eq!(text.matches("现责令你单位").count(), 2);
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
    assert!(page.contains("(淄)安监检记〔2026〕0001号"));
    assert!(page.contains("焊工&lt;张某&gt;无证上岗"));
    assert!(!page.contains("<张某>"));
    assert!(
        !page.contains("src=") && !page.contains("href="),
        "no external assets"
    );
    assert!(page.contains(&document.content_hash()));
}
