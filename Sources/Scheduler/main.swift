import Runtime

await DocketMain.run(SchedulerCommand.self)
