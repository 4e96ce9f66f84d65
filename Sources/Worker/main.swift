import Runtime

await DocketMain.run(WorkerCommand.self)
