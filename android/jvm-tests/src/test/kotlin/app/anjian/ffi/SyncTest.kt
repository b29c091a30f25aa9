package app.anjian.ffi

import app.anjian.ffi.Fixtures.FACTORY
import app.anjian.ffi.Fixtures.LI
import app.anjian.ffi.Fixtures.answerRequired
import java.io.File
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

/**
 * Login and sync from Kotlin against the real anjian-server binary, started for these tests
 * with the demo world on a free port.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SyncTest {
    private lateinit var server: Process
    private lateinit var url: String
    private lateinit var password: String

    @BeforeAll
    fun startServer() {
        val binary = File(System.getProperty("anjian.server") ?: error("anjian.server is not set"))
        check(binary.canExecute()) { "no server binary at $binary: run through cargo xtask jvm-test" }
        val data = Fixtures.tempDir("server")
        server = ProcessBuilder(binary.path, "--data", data.path, "serve", "--demo", "--listen", "127.0.0.1:0")
            .redirectErrorStream(true)
            .start()
        val output = server.inputStream.bufferedReader()
        val listening = Regex("正在监听 (http://[0-9.:]+)")
        val seen = StringBuilder()
        while (true) {
            val line = output.readLine() ?: error("the server stopped before listening:\n$seen")
            seen.appendLine(line)
            val match = listening.find(line)
            if (match != null) {
                url = match.groupValues[1]
                break
            }
        }
        // Keep draining the server's output so that it never blocks on a full pipe.
        Thread { output.forEachLine { } }.apply { isDaemon = true }.start()
        password = File(data, "demo-password.txt").readText().trim()
    }

    @AfterAll
    fun stopServer() {
        server.destroy()
        server.waitFor(10, TimeUnit.SECONDS)
    }

    private fun loggedIn(login: String): DeviceStore = runBlocking {
        val store = DeviceStore.open(Fixtures.tempDir(login).path)
        store.login(url, login, password)
        store.sync()
        store
    }

    @Test
    fun `a login becomes the device's inspector and the first sync brings the reference data`() = runBlocking {
        val store = DeviceStore.open(Fixtures.tempDir("zhang").path)
        val account = store.login(url, "zhang", password)
        assertEquals("张伟", account.name)
        assertEquals("inspector", account.role)
        assertEquals("370303007", account.scope)
        val profile = store.profile()
        assertEquals("37030001", profile.inspector?.cert)
        assertEquals(url, profile.server)

        val report = store.sync()
        assertEquals(1u, report.enterprises, "the one enterprise of 科苑街道 in the demo register")
        assertTrue(store.templates().any { it.id == "trade-enforcement" })
        assertEquals(3u, report.numberBlocks, "a block of numbers per document type")
        assertEquals("淄博市应急管理局", store.profile().agencyName)
        assertTrue(store.enterprises(null).any { it.creditCode == FACTORY })
    }

    @Test
    fun `a wrong password, a bad address and a device never logged in are told apart`() = runBlocking {
        val store = DeviceStore.open(Fixtures.tempDir("nobody").path)
        val notLoggedIn = assertThrows<AnjianException.NotLoggedIn> { runBlocking { store.sync() } }
        assertEquals("not_logged_in", notLoggedIn.code)
        val refused = assertThrows<AnjianException.NotLoggedIn> {
            runBlocking { store.login(url, "zhang", "not-the-password") }
        }
        assertTrue(refused.detail.isNotBlank())
        val badUrl = assertThrows<AnjianException.InvalidInput> {
            runBlocking { store.login("ftp://example", "zhang", password) }
        }
        assertTrue(badUrl.detail.contains("http://"), badUrl.detail)
        assertNull(store.profile().server, "nothing is kept from a failed login")
    }

    @Test
    fun `a submitted record is locked with a receipt, and a late change becomes an amendment`() = runBlocking {
        val zhang = loggedIn("zhang")
        val li = loggedIn("li")
        val record = zhang.startInspection(FACTORY, "trade-enforcement", listOf(LI), "一号车间", null)
        answerRequired(zhang, record.id)
        assertEquals("accepted", zhang.sync().records.single { it.id == record.id }.result)
        assertTrue(li.sync().downloaded.contains(record.id))

        // 李娜 corrects an answer offline while 张伟 issues the record, submits and syncs.
        li.answer(record.id, "IT-001", "fail", AnswerInput(note = "复核发现护栏缺失", deadline = "2030-01-31"))
        val issued = zhang.issueDocument(record.id, DocumentType.RECORD)
        zhang.submit(record.id)
        val locked = zhang.sync().records.single { it.id == record.id }
        assertEquals("locked", locked.result, locked.toString())
        val receipt = requireNotNull(locked.receipt)
        assertEquals(record.id, receipt.recordId)
        val check = requireNotNull(zhang.checkReceipt(record.id))
        assertTrue(check.valid, check.problem)
        assertEquals(receipt, check.receipt)
        assertTrue(zhang.syncState(record.id)!!.locked)
        assertTrue(zhang.numberRegister().any { it.number == issued.number })

        val late = li.sync().records.single { it.id == record.id }
        assertEquals("rejected", late.result)
        assertEquals("record_locked", late.code)
        val amendmentId = requireNotNull(late.amendment)
        assertEquals(listOf(amendmentId), li.amendmentsOf(record.id))
        val amendment = li.record(amendmentId)
        assertEquals("amendment", amendment.kind)
        assertEquals(record.id, amendment.amendsRecordId)
        assertEquals("复核发现护栏缺失", amendment.answers.single().note)
        // 李娜's copy of the record is the locked one plus the change the server refused.
        assertTrue(li.checkReceipt(record.id)!!.valid)
        val stillLocked = assertThrows<AnjianException.Locked> {
            li.answer(record.id, "IT-002", "na", AnswerInput())
        }
        assertTrue(stillLocked.detail.isNotBlank())

        // Syncing again neither resends the late change nor makes a second amendment.
        assertTrue(li.sync().records.none { it.id == record.id })
        assertEquals(1, li.amendmentsOf(record.id).size)
        li.submit(amendmentId)
        assertEquals("locked", li.sync().records.single { it.id == amendmentId }.result)
    }
}
