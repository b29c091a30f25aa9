package app.anjian.screens

import android.content.ClipData
import android.content.Intent
import android.view.View
import android.view.ViewGroup
import android.webkit.WebView
import android.widget.LinearLayout
import app.anjian.ffi.DeviceStore
import app.anjian.ffi.DocumentType
import app.anjian.ffi.RecordView
import app.anjian.ffi.documentTitle
import app.anjian.logic.canReinspect
import app.anjian.logic.documentChoices
import app.anjian.logic.pdfFileName
import app.anjian.platform.FileShareProvider
import app.anjian.platform.PdfPrintAdapter
import app.anjian.ui.LoadingScreen
import app.anjian.ui.Palette
import app.anjian.ui.button
import app.anjian.ui.buttonRow
import app.anjian.ui.chosen
import app.anjian.ui.column
import app.anjian.ui.field
import app.anjian.ui.message
import app.anjian.ui.text
import java.io.File

/**
 * A record's enforcement documents: issue one (which takes its number for good), preview it
 * as core's HTML, share or print the A4 PDF, or print it on the Bluetooth thermal printer.
 */
class DocumentScreen(private val recordId: String) : LoadingScreen<DocumentScreen.Data>() {
    class Data(val record: RecordView, val titles: Map<DocumentType, String>)

    override val title = "文书"

    private var selected: DocumentType? = null
    private var html: String? = null
    private var post: String? = null

    override suspend fun load(store: DeviceStore): Data {
        val record = store.record(recordId)
        val titles = DocumentType.entries.associateWith { documentTitle(it) }
        return Data(record, titles)
    }

    override fun content(data: Data): View {
        val ctx = host.activity
        val choices = documentChoices(data.record)
        val top = ctx.column {
            text("${data.record.enterprise.name} · ${data.record.statusLabel}", 18f, bold = true)
            if (choices.isEmpty()) message("补正记录不单独制作文书。", Palette.MUTED)
            val recordUnissued = choices.any { it.type == DocumentType.RECORD && it.issued == null }
            if (recordUnissued) {
                // Written into the 现场检查记录; fixed once it is issued.
                text("企业现场负责人职务", 16f, Palette.MUTED)
                field("如 安全科长", post ?: data.record.onSitePost.orEmpty()) { post = it }
                button("保存职务") { savePost() }
            }
            buttonRow {
                for (choice in choices) {
                    val name = data.titles.getValue(choice.type)
                    val label = choice.issued?.let { "$name\n${it.number}" } ?: "签发：$name"
                    button(label, 1f) {
                        if (choice.issued != null) preview(choice.type) else issue(choice.type, name)
                    }.chosen(choice.type == selected)
                }
            }
            val type = selected
            val issued = data.record.documents.firstOrNull { it.docType == type }
            if (type != null && issued != null) {
                buttonRow {
                    button("分享 PDF", 1f) { sharePdf(type, data.titles.getValue(type), issued.number) }
                    button("A4 打印", 1f) { printA4(type, data.titles.getValue(type), issued.number) }
                    button("热敏打印", 1f) { host.push(PrintScreen(recordId, type, data.titles.getValue(type), issued.number)) }
                }
            }
            buttonRow {
                button("检查项", 1f) { host.push(ChecklistScreen(recordId)) }
                button("隐患与提交", 1f) { host.push(HazardsScreen(recordId)) }
            }
            if (canReinspect(data.record)) {
                button("开始复查（依据本指令书）") { host.push(StartInspectionScreen.reinspection(recordId)) }
            }
        }
        return LinearLayout(ctx).apply {
            orientation = LinearLayout.VERTICAL
            addView(top)
            val page = html
            if (page != null) {
                val web = WebView(ctx).apply {
                    // Core's page is self-contained and static: nothing to run, nothing to fetch.
                    settings.javaScriptEnabled = false
                    settings.allowFileAccess = false
                    settings.allowContentAccess = false
                    settings.builtInZoomControls = true
                    settings.displayZoomControls = false
                    loadDataWithBaseURL(null, page, "text/html", "UTF-8", null)
                }
                addView(web, LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, 0, 1f))
            } else if (choices.isNotEmpty()) {
                addView(ctx.column { message("选择上方的文书以预览；未签发的文书签发时取得编号。", Palette.MUTED) })
            }
        }
    }

    private fun savePost() {
        val value = post?.trim() ?: return
        host.call(busy = "正在保存…", work = { store ->
            store.setOnSitePost(recordId, value)
            load(store)
        }) { fresh ->
            post = null
            replaceData(fresh)
        }
    }

    private fun preview(type: DocumentType) {
        host.call(busy = "正在生成预览…", work = { store -> store.renderHtml(recordId, type) }) { page ->
            selected = type
            html = page
            refresh()
        }
    }

    private fun issue(type: DocumentType, name: String) {
        host.confirm("签发$name", "签发将占用一个文书编号，编号签发后不再改变。确定签发？", "签发") {
            host.call(
                busy = "正在签发…",
                work = { store ->
                    store.issueDocument(recordId, type)
                    Pair(load(store), store.renderHtml(recordId, type))
                },
            ) { (fresh, page) ->
                selected = type
                html = page
                replaceData(fresh)
            }
        }
    }

    private fun writePdf(store: DeviceStore, type: DocumentType, name: String, number: String): File {
        val file = File(FileShareProvider.documentsDir(host.activity), pdfFileName(name, number))
        file.writeBytes(store.renderPdf(recordId, type))
        return file
    }

    private fun sharePdf(type: DocumentType, name: String, number: String) {
        host.call(busy = "正在生成 PDF…", work = { store -> writePdf(store, type, name, number) }) { file ->
            val uri = FileShareProvider.documentUri(file.name)
            val send = Intent(Intent.ACTION_SEND).apply {
                setType("application/pdf")
                putExtra(Intent.EXTRA_STREAM, uri)
                putExtra(Intent.EXTRA_SUBJECT, "$name $number")
                clipData = ClipData.newRawUri(file.name, uri)
                addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION)
            }
            host.startForResult(Intent.createChooser(send, "分享$name"), REQUEST_SHARE)
        }
    }

    private fun printA4(type: DocumentType, name: String, number: String) {
        host.call(busy = "正在生成 PDF…", work = { store -> store.renderPdf(recordId, type) }) { pdf ->
            PdfPrintAdapter.print(host.activity, pdf, "$name $number")
        }
    }

    private companion object {
        const val REQUEST_SHARE = 21
    }
}
