package app.anjian.shell

import android.Manifest
import android.app.Activity
import android.net.Uri
import android.provider.MediaStore
import app.anjian.ffi.AnswerInput
import app.anjian.ffi.DeviceStore
import app.anjian.ffi.DocumentType
import app.anjian.ffi.defaultPrintPacing
import java.time.LocalDate
import java.time.ZoneOffset
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.annotation.GraphicsMode

/**
 * A whole field day on the real screens, against the real library and a real server: log in,
 * sync, start an inspection with a co-inspector, answer (a failure with a camera photo), meet a
 * colleague's conflicting answer, issue the record and the order, print the order on a
 * Bluetooth printer (a job cut off mid-way, then reprinted), submit, sync, see the lock and
 * its receipt. Each main screen is drawn at tablet and phone size on the way.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35], qualifiers = Sizes.TABLET)
@GraphicsMode(GraphicsMode.Mode.NATIVE)
class FieldDayTest {
    private lateinit var li: DeviceStore

    @Before
    fun fresh() = resetProcess()

    @After
    fun close() {
        if (::li.isInitialized) li.destroy()
        resetProcess()
    }

    private fun inChina(): LocalDate = LocalDate.now(ZoneOffset.ofHours(8))

    @Test
    fun `an inspector's day, from login to the locked record's receipt`() {
        val shell = Shell()
        val app = shell.application
        shadowOf(app).grantPermissions(Manifest.permission.CAMERA, Manifest.permission.BLUETOOTH_CONNECT, Manifest.permission.BLUETOOTH_SCAN)
        val printer = Printer(app).apply { pair() }

        // Nobody has logged in on this tablet yet: the login screen.
        shell.await("安监执法终端")
        shell.type("如 https://anjian.example.gov.cn", TestServer.url)
        shell.type("执法账号", "zhang")
        shell.type("密码", TestServer.password)
        shell.screenshot("01-login")
        shell.tap("登录")

        // The first sync brought the register of 张伟's area.
        shell.await(FACTORY_NAME)
        assertTrue(shell.screenText(), shell.shows("张伟（执法证 37030001）"))
        assertTrue(shell.screenText(), shell.shows("淄博市应急管理局"))
        shell.screenshot("02-home")

        shell.tapRow(FACTORY_NAME)
        shell.await("工贸企业安全生产执法检查表")
        shell.type("如 李娜:37030002:2030-12-31", LI)
        shell.type("如 一号车间", "一号车间")
        shell.type("如 安全科长", "安全科长")
        shell.screenshot("03-start")
        shell.tap("开始检查")

        shell.await("第 1/91 项")
        assertTrue(shell.screenText(), shell.shows("IT-001"))
        val recordId = offMain { appStore().records() }.single().id
        assertEquals("安全科长", offMain { appStore().record(recordId) }.onSitePost)
        shell.screenshot("04-checklist")
        shell.tap("合格")
        shell.await("IT-002")
        // IT-002 is left for 李娜 to answer first; IT-003 fails, with a photo.
        shell.tap("下一项")
        shell.await("IT-003")
        shell.tap("不合格")
        shell.type("现场情况说明（可不填）", "主要负责人考核合格证明过期")
        shell.tap("拍照")
        val capture = shadowOf(shell.activity).nextStartedActivityForResult
        assertNotNull("the camera app is asked for a photo", capture)
        assertEquals(MediaStore.ACTION_IMAGE_CAPTURE, capture.intent.action)
        @Suppress("DEPRECATION")
        val target = capture.intent.getParcelableExtra<Uri>(MediaStore.EXTRA_OUTPUT)!!
        // The camera app writes the picture through the app's provider, then returns.
        val jpeg = byteArrayOf(0xFF.toByte(), 0xD8.toByte(), 0xFF.toByte(), 0xE0.toByte(), 1, 2, 3, 4)
        app.contentResolver.openOutputStream(target)!!.use { it.write(jpeg) }
        shadowOf(shell.activity).receiveResult(capture.intent, Activity.RESULT_OK, null)
        shell.idle()
        shell.await("待存照片 1 张")
        shell.tap("30 天")
        shell.screenshot("05-failed-item")
        shell.tap("保存：不合格")
        shell.awaitThat("IT-003 saved with its photo") {
            offMain { appStore().record(recordId) }.answers.any { it.item == "IT-003" && it.photos.size == 1 }
        }
        val stored = offMain { appStore().record(recordId) }.answers.single { it.item == "IT-003" }
        assertEquals("fail", stored.status)
        assertEquals("主要负责人考核合格证明过期", stored.note)
        assertEquals(inChina().plusDays(30).toString(), stored.hazard?.deadline)
        // The rest of the required items, as the inspector would tap them, through the same store.
        answerRestPassing(appStore(), recordId, skip = setOf("IT-002"))

        // Upload the draft: 李娜 gets it and answers IT-002 on her tablet.
        shell.back()
        shell.await("选择被检查单位")
        shell.tap("同步")
        shell.await("记录状态")
        shell.tap("立即同步")
        shell.await("服务器已接收")
        li = runBlocking {
            DeviceStore.open(kotlin.io.path.createTempDirectory("li").toString()).also {
                it.login(TestServer.url, "li", TestServer.password)
                it.sync()
            }
        }
        li.answer(recordId, "IT-002", "fail", AnswerInput(note = "焊工无证上岗", deadline = inChina().plusDays(20).toString()))
        runBlocking { li.sync() }

        // Meanwhile 张伟 passes IT-002 on his tablet, offline; the next sync shows the conflict.
        shell.tapRow(FACTORY_NAME)
        shell.await("IT-002")
        shell.tap("合格")
        shell.awaitThat("IT-002 saved") { offMain { appStore().record(recordId) }.answers.any { it.item == "IT-002" } }
        shell.back()
        shell.await("记录状态")
        shell.tap("立即同步")
        shell.awaitThat("the conflict after the sync") { offMain { appStore().record(recordId) }.conflicts.isNotEmpty() }
        shell.await("上次同步")
        shell.screenshot("06-sync")
        shell.tapRow(FACTORY_NAME)
        shell.await("两台设备对本项的回答不同")
        assertTrue(shell.screenText(), shell.shows("IT-002"))
        shell.screenshot("07-conflict")
        val options = shell.screenText().lines().filter { Regex("^[12]\\. ").containsMatchIn(it) }
        val byLi = options.indexOfFirst { it.contains("李娜") } + 1
        assertTrue("both answers are listed: $options", byLi > 0 && options.size == 2)
        shell.tap("采用第 $byLi 个答案")
        shell.awaitThat("the conflict resolved") { offMain { appStore().record(recordId) }.conflicts.isEmpty() }

        // The hazards, then the documents: each issued takes its number for good.
        shell.tap("隐患与提交")
        shell.await("隐患 2 项")
        assertTrue(shell.screenText(), shell.shows("焊工") || shell.shows("特种作业人员"))
        shell.screenshot("08-hazards")
        shell.tap("文书预览与打印")
        shell.await("签发：现场检查记录")
        shell.tap("签发：现场检查记录")
        assertTrue(shell.confirm().contains("编号"))
        shell.await("分享 PDF")
        shell.tap("签发：责令限期整改指令书")
        shell.confirm()
        // Issuing runs on an IO thread: wait for it as the screen does, not for a fixed time.
        shell.awaitThat("the order issued") {
            offMain { appStore().record(recordId) }.documents.any { it.docType == DocumentType.ORDER }
        }
        val order = offMain { appStore().record(recordId) }.documents.single { it.docType == DocumentType.ORDER }
        shell.await(order.number)
        shell.screenshot("09-documents")
        shell.tap("热敏打印")
        shell.await(Printer.NAME)
        shell.screenshot("10-print")

        // The printer receives exactly what `anjian doc render --format escpos` makes of the
        // order, in paced chunks.
        val job = cliEscpos(recordId, "order", listOf("--width", "58", "--copies", "2"))
        assertTrue("the order's number is in the job", contains(job, order.number.toByteArray(GB18030)))
        val first = PrinterEnd()
        printer.nextJobGoesTo(first)
        shell.tap("打印（一式两联）")
        shell.await("两联已打印", seconds = 120)
        assertArrayEquals(job, first.bytes)
        assertPaced(first, job.size)

        // The link breaks mid-job: the inspector is told, and printing again reprints the
        // whole order under the same number.
        val broken = PrinterEnd(failAfter = 1024)
        printer.nextJobGoesTo(broken)
        shell.tap("打印（一式两联）")
        shell.await("打印机连接中断", seconds = 120)
        assertFalse(shell.shows("两联已打印"))
        assertTrue(broken.bytes.size < job.size)
        val retry = PrinterEnd()
        printer.nextJobGoesTo(retry)
        shell.tap("打印（一式两联）")
        shell.await("两联已打印", seconds = 120)
        assertArrayEquals("the reprint is the same document, same number", job, retry.bytes)

        // Submit, sync: the server locks the record and its receipt verifies on the tablet.
        shell.back()
        shell.back()
        shell.await("提交检查记录")
        shell.tap("提交检查记录")
        shell.confirm()
        shell.await("由 张伟 提交")
        assertEquals("检查记录已提交", shell.lastToast())
        shell.back()
        shell.await("不能再修改")
        shell.back()
        shell.await("立即同步")
        shell.tap("立即同步")
        shell.await("已锁定，回执第")
        shell.await("服务器已锁定，回执有效")
        shell.screenshot("11-locked")
        val check = offMain { appStore().checkReceipt(recordId) }
        assertTrue(check?.problem, check?.valid == true)
        assertTrue(shell.screenText(), shell.shows("第 ${check!!.receipt.logIndex} 号"))
    }

    private fun assertPaced(end: PrinterEnd, total: Int) {
        val chunk = defaultPrintPacing().chunkBytes.toInt()
        assertTrue("every write is one chunk of at most $chunk bytes: ${end.chunks}", end.chunks.all { it in 1..chunk })
        assertEquals("the job goes out in ${(total + chunk - 1) / chunk} chunks", (total + chunk - 1) / chunk, end.chunks.size)
    }
}
