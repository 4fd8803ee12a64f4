-- DropIndex
DROP INDEX "InboundMessage_mailboxId_idx";

-- DropIndex
DROP INDEX "ThreadMessage_taskId_idx";

-- CreateIndex
CREATE INDEX "InboundMessage_mailboxId_uidValidity_uid_idx" ON "InboundMessage"("mailboxId", "uidValidity", "uid");

-- CreateIndex
CREATE INDEX "ThreadMessage_taskId_createdAt_idx" ON "ThreadMessage"("taskId", "createdAt");

