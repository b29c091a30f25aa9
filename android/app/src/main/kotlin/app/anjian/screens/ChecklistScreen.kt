package app.anjian.screens

import android.app.Activity
import android.app.AlertDialog
import android.content.ClipData
import android.content.Intent
import android.content.pm.PackageManager
import android.provider.MediaStore
import android.text.InputType
import android.view.View
import android.widget.EditText
import android.widget.LinearLayout
import app.anjian.ffi.ChecklistItemView
import app.anjian.ffi.DeviceStore
import app.anjian.ffi.RecordView
import app.anjian.logic.AnswerCheck
import app.anjian.logic.AnswerChoice
import app.anjian.logic.AnswerKind
import app.anjian.logic.CapturedPhotos
import app.anjian.logic.ChecklistProgress
import app.anjian.logic.PERMISSION_CAMERA
import app.anjian.logic.answerKind
import app.anjian.logic.answerSummary
import app.anjian.logic.deadlineAfter
import app.anjian.logic.inspectionDate
import app.anjian.logic.predictsFailure
import app.anjian.logic.prepareAnswer
import app.anjian.logic.userMessage
import app.anjian.platform.FileShareProvider
import app.anjian.ui.LoadingScreen
import app.anjian.ui.Palette
import app.anjian.ui.button
import app.anjian.ui.buttonRow
import app.anjian.ui.chosen
import app.anjian.ui.column
import app.anjian.ui.divider
import app.anjian.ui.field
import app.anjian.ui.heading
import app.anjian.ui.message
import app.anjian.ui.panel
import app.anjian.ui.scrolling
import app.anjian.ui.text
import java.io.File

/**
 * Runs a record's checklist item by item: the item with its guidance and legal basis, the
 * answer so far, conflicting answers from a colleague's tablet to choose between, and the input
 * (pass/fail/not applicable, a measured value, or text) with note, photos, and for a failure
 * the deadline and measure.
 */
class ChecklistScreen(private val recordId: String) : LoadingScreen<ChecklistScreen.Data>() {
    class Data(val items: List<ChecklistItemView>, val record: RecordView) {
        val progress = ChecklistProgress(items, record.conflicts.map { it.item })
    }

    override val title = "现场检查"

    private var index: Int? = null

    // The draft of the shown item; cleared when another item is shown.
    private var choice: AnswerChoice? = null
    private var valueText = ""
    private var deadline = ""
    private var measure = ""
    private var note = ""
    private var problem: String? = null
    private var draftFor: String? = null

    // The photo file the camera app is writing, and the item waiting for the camera permission.
    private var capturing: String? = null
    private var photoItem: ChecklistItemView? = null

    override suspend fun load(store: DeviceStore): Data = Data(store.checklist(recordId), store.record(recordId))

    private fun cameraDir(): File = FileShareProvider.cameraDir(host.activity)

    // A draft belongs to one answer of one item: when the answer changes elsewhere (a deadline
    // set among the hazards, a colleague's answer merged), the fields start again from it.
    private fun draftKey(item: ChecklistItemView): String = item.code + "|" + item.answer?.at.orEmpty()

    private fun startDraft(item: ChecklistItemView) {
        val answer = item.answer
        draftFor = draftKey(item)
        choice = null
        problem = null
        valueText = answer?.value.orEmpty()
        note = answer?.note.orEmpty()
        deadline = answer?.hazard?.deadline.orEmpty()
        measure = answer?.hazard?.measure.orEmpty()
    }

    private fun go(to: Int, data: Data) {
        index = to
        startDraft(data.items[to])
        refresh()
    }

    override fun content(data: Data): View {
        val ctx = host.activity
        val progress = data.progress
        if (data.items.isEmpty()) {
            return ctx.column {
                message("此记录没有检查项。", Palette.MUTED)
                button("隐患与提交") { host.push(HazardsScreen(recordId)) }
            }
        }
        val at = (index ?: progress.firstToShow()).coerceIn(0, data.items.lastIndex)
        index = at
        val item = data.items[at]
        if (draftFor != draftKey(item)) startDraft(item)
        val editable = data.record.status == "draft"

        return ctx.scrolling(ctx.column {
            text("${data.record.enterprise.name} · ${data.record.inspectionKindLabel} · 第 ${at + 1}/${data.items.size} 项", 16f, Palette.MUTED)
            text(progress.summary(), 16f, if (progress.ready) Palette.GOOD else Palette.MUTED)
            buttonRow {
                button("目录", 1f) { showIndex(data) }
                button("隐患与提交", 1f) { host.push(HazardsScreen(recordId)) }
                button("文书", 1f) { host.push(DocumentScreen(recordId)) }
            }
            divider()
            text(item.section, 16f, Palette.MUTED)
            heading("${item.code}  ${item.text}")
            if (item.required) text("必查项", 15f, Palette.ACCENT)
            item.requirement?.let { text("要求：$it", 18f, Palette.ACCENT, bold = true) }
            if (item.guidance.isNotBlank()) panel("检查指引", item.guidance)
            if (item.legalBasis.isNotBlank()) panel("法律依据", item.legalBasis)
            if (item.hazard.isNotBlank()) panel("不合格时记载的隐患（${item.`class`}）", item.hazard)

            item.answer?.let { answer ->
                val color = when (answer.status) {
                    "fail" -> Palette.ERROR
                    "pass" -> Palette.GOOD
                    else -> Palette.TEXT
                }
                text("当前答案：" + answerSummary(answer, item.unit), 18f, color, bold = true)
                answer.note?.let { text("备注：$it", 16f) }
                if (answer.photos.isNotEmpty()) text("已存照片 ${answer.photos.size} 张", 16f, Palette.MUTED)
                answer.hazard?.let { hazard ->
                    text("整改期限：" + (hazard.deadline ?: "未设"), 16f, if (hazard.deadline == null) Palette.WARNING else Palette.TEXT)
                }
            }
            if (progress.isConflicted(at)) conflicts(data, item, editable)

            if (!editable) {
                message("记录${data.record.statusLabel}，不能再修改；更正请在同步后以补正记录进行。", Palette.WARNING)
            } else {
                divider()
                input(data, item)
            }
            problem?.let { message(it, Palette.ERROR) }
            divider()
            buttonRow {
                button("上一项", 1f) { if (at > 0) go(at - 1, data) }
                button("下一项", 1f) { if (at < data.items.lastIndex) go(at + 1, data) }
                button("下一个待答项", 1f) {
                    val next = progress.nextNeedingAttention(at)
                    if (next == null) host.toast("没有待答的必查项，也没有冲突") else go(next, data)
                }
            }
        })
    }

    private fun LinearLayout.conflicts(data: Data, item: ChecklistItemView, editable: Boolean) {
        val conflict = data.record.conflicts.firstOrNull { it.item == item.code } ?: return
        message("两台设备对本项的回答不同，请选择保留哪一个：", Palette.WARNING)
        conflict.values.forEachIndexed { i, value ->
            text("${i + 1}. " + answerSummary(value, item.unit) + (value.note?.let { "\n备注：$it" } ?: ""), 17f)
            if (editable) {
                button("采用第 ${i + 1} 个答案") {
                    host.call(busy = "正在处理冲突…", work = { store ->
                        store.resolveConflict(recordId, item.code, (i + 1).toUInt())
                        load(store)
                    }) { fresh ->
                        startDraft(fresh.items.first { it.code == item.code })
                        replaceData(fresh)
                    }
                }
            }
        }
    }

    private fun LinearLayout.input(data: Data, item: ChecklistItemView) {
        val kind = answerKind(item)
        val shownChoice = choice
        // Before a new choice, the buttons show the answer already given.
        fun shows(option: AnswerChoice, status: String) =
            shownChoice == option || (shownChoice == null && item.answer?.status == status)
        lateinit var failFields: LinearLayout
        fun updateFailFields() {
            failFields.visibility = if (predictsFailure(item, currentChoice(kind))) View.VISIBLE else View.GONE
        }
        when (kind) {
            AnswerKind.CHECK -> buttonRow {
                button("合格", 1f) { save(data, item, AnswerChoice.Pass) }.chosen(shows(AnswerChoice.Pass, "pass"))
                button("不合格", 1f) {
                    choice = AnswerChoice.Fail
                    refresh()
                }.chosen(shows(AnswerChoice.Fail, "fail"))
                button("不适用", 1f) { save(data, item, AnswerChoice.NotApplicable) }.chosen(shows(AnswerChoice.NotApplicable, "na"))
            }
            AnswerKind.MEASURE -> {
                text("实测值" + (item.unit?.let { "（$it）" } ?: ""), 16f, Palette.MUTED)
                field(item.requirement ?: "数值", valueText, InputType.TYPE_CLASS_NUMBER or InputType.TYPE_NUMBER_FLAG_DECIMAL or InputType.TYPE_NUMBER_FLAG_SIGNED) {
                    valueText = it
                    updateFailFields()
                }
            }
            AnswerKind.TEXT -> {
                text("记录内容", 16f, Palette.MUTED)
                field("现场情况", valueText, lines = 3) { valueText = it }
            }
        }

        failFields = context.column(0) {
            text("整改期限（YYYY-MM-DD）", 16f, Palette.MUTED)
            val deadlineField: EditText = field("如 2026-12-31", deadline, InputType.TYPE_CLASS_DATETIME or InputType.TYPE_DATETIME_VARIATION_DATE) { deadline = it }
            val from = inspectionDate(data.record.startedAt)
            buttonRow {
                for (days in listOf(7, 15, 30)) {
                    button("$days 天", 1f) { deadlineField.setText(deadlineAfter(days, from)) }
                }
            }
            text("整改措施（不填则用检查表的措施）", 16f, Palette.MUTED)
            field(item.defaultMeasure ?: "整改措施", measure, lines = 2) { measure = it }
            text("可以先不填期限，但提交前须在“隐患与提交”中补上。", 15f, Palette.MUTED)
        }.also { addView(it) }
        updateFailFields()

        text("备注", 16f, Palette.MUTED)
        field("现场情况说明（可不填）", note, lines = 2) { note = it }
        val pending = CapturedPhotos.pending(cameraDir(), recordId, item.code)
        buttonRow {
            button("拍照", 1f) { takePhoto(item) }
            if (pending.isNotEmpty()) {
                button("放弃 ${pending.size} 张待存照片", 1f) {
                    pending.forEach { it.delete() }
                    refresh()
                }
            }
        }
        if (pending.isNotEmpty()) text("待存照片 ${pending.size} 张：保存答案时存入记录", 16f, Palette.WARNING)

        when (kind) {
            AnswerKind.CHECK -> if (shownChoice == AnswerChoice.Fail) button("保存：不合格") { save(data, item, AnswerChoice.Fail) }
            AnswerKind.MEASURE -> buttonRow {
                button("保存", 1f) { save(data, item, AnswerChoice.Measured(valueText)) }
                button("不适用", 1f) { save(data, item, AnswerChoice.NotApplicable) }
            }
            AnswerKind.TEXT -> buttonRow {
                button("保存", 1f) { save(data, item, AnswerChoice.Written(valueText)) }
                button("不适用", 1f) { save(data, item, AnswerChoice.NotApplicable) }
            }
        }
    }

    private fun currentChoice(kind: AnswerKind): AnswerChoice? = when (kind) {
        AnswerKind.CHECK -> choice
        AnswerKind.MEASURE -> AnswerChoice.Measured(valueText)
        AnswerKind.TEXT -> AnswerChoice.Written(valueText)
    }

    private fun save(data: Data, item: ChecklistItemView, chosen: AnswerChoice) {
        val photos = CapturedPhotos.pending(cameraDir(), recordId, item.code)
        val check = prepareAnswer(item, chosen, deadline, measure, note, photos.map { it.path }, inspectionDate(data.record.startedAt))
        val ready = when (check) {
            is AnswerCheck.Refused -> {
                problem = check.problem
                refresh()
                return
            }
            is AnswerCheck.Ready -> check
        }
        val from = index ?: 0
        host.call(
            busy = "正在保存…",
            work = { store ->
                store.answer(recordId, item.code, ready.input, ready.details)
                load(store)
            },
            failed = { error ->
                problem = userMessage(error)
                refresh()
            },
        ) { fresh ->
            // The store has its own copies now (content-addressed in its photo folder).
            photos.forEach { it.delete() }
            val next = fresh.progress.afterAnswer(from)
            if (fresh.progress.ready && fresh.progress.nextNeedingAttention(from) == null && !data.progress.ready) {
                host.toast("必查项已全部作答，可到“隐患与提交”提交")
            }
            index = next
            startDraft(fresh.items[next])
            replaceData(fresh)
        }
    }

    private fun showIndex(data: Data) {
        val progress = data.progress
        val labels = data.items.indices.map { i ->
            val item = data.items[i]
            "${progress.marker(i)} ${item.code}  ${item.text.take(36)}"
        }.toTypedArray()
        AlertDialog.Builder(host.activity)
            .setTitle("检查项（✓ 已答 ○ 必查未答 ⚠ 冲突）")
            .setItems(labels) { _, which -> go(which, data) }
            .setNegativeButton("关闭", null)
            .show()
    }

    private fun takePhoto(item: ChecklistItemView) {
        val activity = host.activity
        // Declaring CAMERA in the manifest makes the capture intent require it to be granted.
        if (activity.checkSelfPermission(PERMISSION_CAMERA) != PackageManager.PERMISSION_GRANTED) {
            photoItem = item
            host.requestPermissions(listOf(PERMISSION_CAMERA), REQUEST_CAMERA_PERMISSION)
            return
        }
        val name = CapturedPhotos.fileName(recordId, item.code, System.currentTimeMillis())
        val uri = FileShareProvider.cameraUri(name)
        val intent = Intent(MediaStore.ACTION_IMAGE_CAPTURE).apply {
            putExtra(MediaStore.EXTRA_OUTPUT, uri)
            // ClipData carries the grant to the camera app on every Android version.
            clipData = ClipData.newRawUri("photo", uri)
            addFlags(Intent.FLAG_GRANT_WRITE_URI_PERMISSION or Intent.FLAG_GRANT_READ_URI_PERMISSION)
        }
        capturing = name
        host.startForResult(intent, REQUEST_CAPTURE)
    }

    override fun onResult(requestCode: Int, resultCode: Int, data: Intent?) {
        if (requestCode != REQUEST_CAPTURE) return
        val name = capturing
        capturing = null
        // A cancelled capture leaves an empty file, or one the inspector chose not to keep.
        if (resultCode != Activity.RESULT_OK && name != null) File(cameraDir(), name).delete()
        refresh()
    }

    override fun onPermissions(requestCode: Int, granted: Map<String, Boolean>) {
        if (requestCode != REQUEST_CAMERA_PERMISSION) return
        val item = photoItem
        photoItem = null
        if (granted[PERMISSION_CAMERA] == true) {
            item?.let(::takePhoto)
        } else {
            host.alert("无法拍照", "未获得相机权限。可在系统设置的应用权限中开启相机。")
        }
    }

    private companion object {
        const val REQUEST_CAPTURE = 11
        const val REQUEST_CAMERA_PERMISSION = 12
    }
}
